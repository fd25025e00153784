/**
 * Reads what bridge mode needs to know about interfaces (through `ip -j`, so it works inside another
 * network namespace too): the bridge's MAC, its ports, whether a device exists.
 */
import { PlatformError } from './platform-errors.js';
import { describeFailure, runCommand, type CommandOptions } from './system-command.js';

interface IpLinkEntry {
  readonly ifname: string;
  readonly address?: string;
  readonly master?: string;
  readonly operstate?: string;
  readonly linkinfo?: { readonly info_kind?: string };
}

async function ipLink(args: readonly string[], opts: Pick<CommandOptions, 'netns'>): Promise<IpLinkEntry[] | null> {
  const r = await runCommand(['ip', '-j', '-d', 'link', 'show', ...args], opts);
  if (r.status !== 0) return null;
  try {
    return JSON.parse(r.stdout || '[]') as IpLinkEntry[];
  } catch (err) {
    throw new PlatformError('ERR_NETWORK_INTERFACE', `cannot parse the output of ${describeFailure(r)}`, { cause: err });
  }
}

export async function interfaceExists(name: string, opts: Pick<CommandOptions, 'netns'> = {}): Promise<boolean> {
  const links = await ipLink(['dev', name], opts);
  return links !== null && links.length === 1;
}

/** The MAC address of `name`, lower-case. @throws PlatformError ERR_NETWORK_INTERFACE when it does not exist. */
export async function readInterfaceMac(name: string, opts: Pick<CommandOptions, 'netns'> = {}): Promise<string> {
  const links = await ipLink(['dev', name], opts);
  const mac = links?.[0]?.address;
  if (!mac) {
    throw new PlatformError('ERR_NETWORK_INTERFACE', `interface ${name} does not exist${opts.netns ? ` in netns ${opts.netns}` : ''}`);
  }
  return mac.toLowerCase();
}

/**
 * The ports enslaved to `bridge`, sorted. @throws PlatformError ERR_NETWORK_INTERFACE when `bridge` is
 * missing or is not a bridge.
 */
export async function listBridgePorts(bridge: string, opts: Pick<CommandOptions, 'netns'> = {}): Promise<string[]> {
  const self = await ipLink(['dev', bridge], opts);
  if (!self || self.length !== 1) throw new PlatformError('ERR_NETWORK_INTERFACE', `bridge ${bridge} does not exist`);
  if (self[0]!.linkinfo?.info_kind !== 'bridge') {
    throw new PlatformError('ERR_NETWORK_INTERFACE', `${bridge} is not a bridge (kind ${self[0]!.linkinfo?.info_kind ?? 'none'})`);
  }
  const ports = (await ipLink(['master', bridge], opts)) ?? [];
  return ports.map((p) => p.ifname).sort();
}
