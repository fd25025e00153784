/**
 * @ipMatch — the value (a textual IPv4/IPv6 address) lies in one of the comma-separated addresses or CIDR
 * prefixes of the parameter. A value that is not an address does not match.
 */
import type { OperatorSpec } from '../types.js';
import { IpPrefixSet } from './ip-prefix-set.js';

export const ipMatch: OperatorSpec = {
  name: 'ipMatch',
  create(param) {
    const entries = param.split(',').map((e) => e.trim()).filter((e) => e !== '');
    if (entries.length === 0) throw new Error("missing parameter for operator 'ipMatch'");
    const set = IpPrefixSet.from(entries);
    return { evaluate: (_otx, value) => set.has(value) };
  },
};
