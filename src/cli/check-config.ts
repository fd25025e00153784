/**
 * `portcullis check-config [-c FILE] [--json] [--help]`: validates a configuration file without
 * starting anything.
 *
 * Exit codes (scripts rely on them): 0 valid, 1 invalid (every error listed, one per line), 2 usage error.
 */
import { formatConfigError, loadConfigFile, type ConfigError } from '../config/load.js';
import type { GatewayConfig } from '../config/types.js';

export interface CommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

export const CHECK_CONFIG_USAGE = `Usage: portcullis check-config [-c FILE] [--json] [--help]

Validates a Portcullis configuration file: YAML syntax, every key and value, references between
objects, and the certificate, key and CA files it names.

Options:
  -c, --config FILE  configuration file (default: $PORTCULLIS_CONFIG or config/portcullis.yaml)
  --json             print {"ok", "file", "summary", "errors"} as JSON on stdout
  -h, --help         print this help

Output: when valid, one summary line on stdout; when invalid, each error on its own line on stderr as
FILE:LINE:COL: PATH: MESSAGE.
Exit codes: 0 valid, 1 invalid, 2 usage error.
`;

/** Same default as every other command: $PORTCULLIS_CONFIG, else config/portcullis.yaml in the working directory. */
function defaultFile(): string {
  return process.env['PORTCULLIS_CONFIG'] || 'config/portcullis.yaml';
}

interface Options {
  file: string;
  json: boolean;
  help: boolean;
}

function parseArgs(argv: readonly string[]): Options | string {
  const opts: Options = { file: defaultFile(), json: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') opts.help = true;
    else if (arg === '--json') opts.json = true;
    else if (arg === '-c' || arg === '--config') {
      const value = argv[++i];
      if (value === undefined || value === '') return `${arg} needs a file name`;
      opts.file = value;
    } else if (arg.startsWith('--config=')) {
      opts.file = arg.slice('--config='.length);
      if (opts.file === '') return '--config= needs a file name';
    } else if (arg.startsWith('-')) return `unknown option ${JSON.stringify(arg)}`;
    else return `unexpected argument ${JSON.stringify(arg)} (use -c FILE to name the configuration file)`;
  }
  return opts;
}

export interface ConfigSummary {
  readonly mode: string;
  readonly sites: number;
  readonly serverGroups: number;
  /** alias: distinct alias address:port listeners; bridge and sniff: distinct protected server:port pairs. */
  readonly listeners: number;
}

export function summarize(config: GatewayConfig): ConfigSummary {
  const groups = config.sites.flatMap((s) => s.serverGroups);
  const endpoints = new Set<string>();
  for (const group of groups) {
    for (const service of group.services) {
      if (config.gateway.mode === 'alias') {
        for (const rp of service.reverseProxy) endpoints.add(`${rp.aliasRef.address}|${rp.port}`);
      } else {
        for (const server of group.servers) {
          for (const port of [...service.ports, ...service.sslPorts]) endpoints.add(`${server}|${port}`);
        }
      }
    }
  }
  return { mode: config.gateway.mode, sites: config.sites.length, serverGroups: groups.length, listeners: endpoints.size };
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export async function checkConfigCommand(argv: string[], io: CommandIo): Promise<number> {
  const opts = parseArgs(argv);
  if (typeof opts === 'string') {
    io.stderr.write(`portcullis check-config: ${opts}\n\n${CHECK_CONFIG_USAGE}`);
    return 2;
  }
  if (opts.help) {
    io.stdout.write(CHECK_CONFIG_USAGE);
    return 0;
  }

  const result = loadConfigFile(opts.file);
  const errors: readonly ConfigError[] = result.ok ? [] : result.errors;
  const summary = result.ok ? summarize(result.config) : null;
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({ ok: result.ok, file: opts.file, summary, errors })}\n`);
  } else if (summary) {
    io.stdout.write(`${opts.file}: OK (mode ${summary.mode}, ${plural(summary.sites, 'site', 'sites')}, `
      + `${plural(summary.serverGroups, 'server group', 'server groups')}, ${plural(summary.listeners, 'listener', 'listeners')})\n`);
  } else {
    // Exactly one error per line and nothing else, so that scripts can count and grep them.
    for (const e of errors) io.stderr.write(`${formatConfigError(e)}\n`);
  }
  return result.ok ? 0 : 1;
}
