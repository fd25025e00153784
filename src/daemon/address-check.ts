/**
 * The daemon refuses to start when an alias address is not configured on its device: listening would
 * fail with EADDRNOTAVAIL anyway, and this message says how to fix it.
 */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import type { GatewayConfig } from '../config/types.js';
import { DaemonError } from './errors.js';

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** One line per alias whose address is missing; empty when all are present. */
export function missingAliasAddresses(config: GatewayConfig, interfaces: InterfaceTable = networkInterfaces()): string[] {
  const problems: string[] = [];
  for (const alias of config.gateway.aliases) {
    // `ip addr add … label eth0:1` shows up in os.networkInterfaces() under the label, not the device.
    const onDevice = Object.entries(interfaces).some(
      ([name, addrs]) =>
        (name === alias.device || name.startsWith(`${alias.device}:`)) &&
        (addrs ?? []).some((a) => sameAddress(a.address, alias.address)),
    );
    if (!onDevice) {
      problems.push(
        `alias ${alias.name} address ${alias.address} is not configured on device ${alias.device}; ` +
          `run iptables/alias.sh up -c ${config.sourceFile}` +
          ` (${alias.pos.file}:${alias.pos.line}:${alias.pos.col})`,
      );
    }
  }
  return problems;
}

export function checkAliasAddresses(config: GatewayConfig, interfaces?: InterfaceTable): void {
  if (config.gateway.skipAddressCheck) return;
  const problems = missingAliasAddresses(config, interfaces);
  if (problems.length > 0) {
    throw new DaemonError(
      'ERR_ALIAS_ADDRESS_MISSING',
      problems.length === 1 ? problems[0]! : `${problems.length} alias addresses are not configured on this host`,
      problems.length === 1 ? [] : problems,
    );
  }
}

function sameAddress(a: string, b: string): boolean {
  // Link-local IPv6 addresses carry a zone ("fe80::1%eth0") in some tables.
  const strip = (s: string) => s.replace(/%.*$/, '').toLowerCase();
  return strip(a) === strip(b);
}
