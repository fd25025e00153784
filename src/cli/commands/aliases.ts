/**
 * Hidden: prints the configured alias addresses for iptables/alias.sh, which must not parse YAML in
 * shell. One JSON array, each entry with the `ip addr … label` label to use (null when device:N would
 * exceed the kernel's 15-character interface-name limit).
 */
import { loadGatewayConfig } from '../../daemon/gateway.js';
import { errorLines } from '../../daemon/errors.js';
import type { Alias } from '../../config/types.js';
import { CONFIG_FLAG, configFileOf, parseFlags } from '../args.js';
import { EXIT, UsageError, type CliCommand } from '../command.js';

/** IFNAMSIZ is 16 including the terminating NUL. */
const MAX_LABEL = 15;

export interface AliasLine {
  readonly name: string;
  readonly device: string;
  readonly address: string;
  readonly prefixLength: number;
  readonly family: 4 | 6;
  readonly label: string | null;
}

export function aliasLines(aliases: readonly Alias[]): AliasLine[] {
  const perDevice = new Map<string, number>();
  return aliases.map((a) => {
    const n = (perDevice.get(a.device) ?? 0) + 1;
    perDevice.set(a.device, n);
    const label = `${a.device}:${n}`;
    // Labels are an IPv4 notion; iproute2 refuses `label` on IPv6 addresses.
    return {
      name: a.name,
      device: a.device,
      address: a.address,
      prefixLength: a.prefixLength,
      family: a.family,
      label: a.family === 4 && label.length <= MAX_LABEL ? label : null,
    };
  });
}

export const aliasesCommand: CliCommand = {
  name: 'aliases',
  summary: 'print the configured alias addresses (for iptables/alias.sh)',
  hidden: true,
  help: `Usage: portcullis aliases --json [-c FILE]

Prints the alias addresses of a configuration as a JSON array of
{name, device, address, prefixLength, family, label}. Used by iptables/alias.sh.

Exit codes: 0 ok, 1 invalid configuration (errors on stderr), 2 usage error.`,
  async run(argv, io) {
    const { values } = parseFlags('aliases', argv, { ...CONFIG_FLAG, json: { type: 'boolean' } });
    if (!values.json) throw new UsageError('portcullis aliases prints JSON only: pass --json');
    let aliases: readonly Alias[];
    try {
      aliases = loadGatewayConfig({ file: configFileOf(values.config) }).gateway.aliases;
    } catch (err) {
      for (const line of errorLines(err)) io.stderr.write(`${line}\n`);
      return EXIT.failure;
    }
    io.stdout.write(JSON.stringify(aliasLines(aliases)) + '\n');
    return EXIT.ok;
  },
};
