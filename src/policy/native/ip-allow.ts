/** ipAllow: when non-empty, only clients whose real IP lies in one of the CIDRs are admitted. */
import { IpPrefixSet } from '../operators/ip-prefix-set.js';
import { NATIVE_IDS, type NativePolicy } from './native-policy.js';

export function ipAllowPolicy(cidrs: readonly string[]): NativePolicy {
  // Client IPs come from dual-stack sockets: ::ffff:a.b.c.d must match IPv4 prefixes.
  const set = IpPrefixSet.from(cidrs, { clientAddresses: true });
  return {
    id: NATIVE_IDS.ipAllow,
    name: 'ip-allow',
    checkHead: (req) =>
      set.has(req.clientIp)
        ? null
        : { policyId: NATIVE_IDS.ipAllow, policyName: 'ip-allow', msg: 'Client IP is not in the allow list', matched: req.clientIp, action: 'block', status: 403 },
  };
}
