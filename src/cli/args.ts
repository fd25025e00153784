/**
 * Flag parsing for sub-commands, on node:util parseArgs in strict mode, with its errors turned into
 * UsageError (exit 2) messages that name the flag.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolve } from 'node:path';
import { UsageError } from './command.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseFlags<T extends Options>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    const e = err as Error & { code?: string };
    const message =
      e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? `unknown option ${/'([^']+)'/.exec(e.message)?.[1] ?? ''} for "portcullis ${command}"`
        : e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
          ? `unexpected argument ${/'([^']+)'/.exec(e.message)?.[1] ?? ''} for "portcullis ${command}"`
          : `portcullis ${command}: ${e.message}`;
    throw new UsageError(message);
  }
}

/** Default configuration: $PORTCULLIS_CONFIG, else config/portcullis.yaml in the working directory. */
export function configFileOf(flag: string | undefined): string {
  return resolve(flag ?? process.env['PORTCULLIS_CONFIG'] ?? 'config/portcullis.yaml');
}

export const CONFIG_FLAG = { config: { type: 'string', short: 'c' } } as const;
