/** ipDeny: clients whose real IP lies in one of the CIDRs are blocked (403). */
import { IpPrefixSet } from '../operators/ip-prefix-set.js';
import { NATIVE_IDS, type NativePolicy } from './native-policy.js';

export function ipDenyPolicy(cidrs: readonly string[]): NativePolicy {
  // Client IPs come from dual-stack sockets: ::ffff:a.b.c.d must match IPv4 prefixes.
  const set = IpPrefixSet.from(cidrs, { clientAddresses: true });
  return {
    id: NATIVE_IDS.ipDeny,
    name: 'ip-deny',
    checkHead: (req) =>
      set.has(req.clientIp)
        ? { policyId: NATIVE_IDS.ipDeny, policyName: 'ip-deny', msg: 'Client IP is in the deny list', matched: req.clientIp, action: 'block', status: 403 }
        : null,
  };
}
