/**
 * Loads a configuration file: YAML parsed with positions, decoded and validated against the schema
 * (gateway-schema.ts), cross-checked (cross-checks.ts), defaulted and deep-frozen. Every problem is
 * returned as a ConfigError with file, line, column and key path; nothing here throws for bad input,
 * so a caller (check-config, reload) can print the full list and keep what was running.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { formatConfigError, type ConfigError } from './config-error.js';
import { crossCheck } from './cross-checks.js';
import { deepFreeze } from './deep-freeze.js';
import { configFile } from './gateway-schema.js';
import { DecodeContext, INVALID } from './schema.js';
import type { GatewayConfig, GatewaySection, Site } from './types.js';

export { formatConfigError };
export type { ConfigError, ConfigErrorCode } from './config-error.js';

export type LoadResult = { ok: true; config: GatewayConfig } | { ok: false; errors: ConfigError[] };

export interface LoadOptions {
  /** Environment consulted for defaults (PORTCULLIS_CONTROL); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Reads and validates `file`. Certificate, key and CA files it names are read too. */
export function loadConfigFile(file: string, options: LoadOptions = {}): LoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file (ENOENT)' : code === 'EACCES' ? 'permission denied (EACCES)'
      : code === 'EISDIR' ? 'it is a directory (EISDIR)' : code ?? (err as Error).message;
    return { ok: false, errors: [{ file, line: 1, col: 1, path: '', code: 'FILE_UNREADABLE', message: `cannot read the configuration file: ${reason}` }] };
  }
  return parseConfigText(text, file, options);
}

/** Validates configuration text as if read from `file` (relative paths in it resolve against dirname(file)). */
export function parseConfigText(text: string, file: string, options: LoadOptions = {}): LoadResult {
  const absFile = resolve(file);
  const lines = new LineCounter();
  // prettyErrors off: the messages must stay on one line; positions come from the LineCounter.
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: true, prettyErrors: false, uniqueKeys: true });
  const cx = new DecodeContext(file, absFile, dirname(absFile), doc, lines, options.env ?? process.env);

  for (const e of doc.errors) {
    const { line, col } = lines.linePos(e.pos[0]);
    const duplicate = e.code === 'DUPLICATE_KEY';
    cx.errors.push({
      file, line, col, path: '', code: duplicate ? 'DUPLICATE_KEY' : 'YAML_SYNTAX',
      message: duplicate ? 'the same key appears twice in one mapping' : `YAML ${e.code}: ${firstLine(e.message)}`,
    });
  }
  // A document the parser could not make sense of would only add noise below.
  if (cx.errors.length > 0) return { ok: false, errors: sortErrors(cx.errors) };

  const contents = cx.deref(doc.contents);
  if (contents === null || (contents as { value?: unknown }).value === null) {
    cx.errors.push({ file, line: 1, col: 1, path: '', code: 'EMPTY_DOCUMENT', message: 'the file holds no configuration (expected keys gateway and sites)' });
    return { ok: false, errors: cx.errors };
  }
  const root = configFile.decode(contents, '', cx);
  if (root !== INVALID) crossCheck(root as { gateway?: GatewaySection; sites?: Site[] }, cx);
  if (root === INVALID || cx.errors.length > 0) return { ok: false, errors: sortErrors(cx.errors) };

  const config: GatewayConfig = { sourceFile: absFile, gateway: root.gateway, sites: root.sites };
  return { ok: true, config: deepFreeze(config) };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').trim();
}

/** Errors in file order (line, then column); the sort is stable, so errors at one spot keep their order. */
function sortErrors(errors: ConfigError[]): ConfigError[] {
  return [...errors].sort((a, b) => a.line - b.line || a.col - b.col);
}
