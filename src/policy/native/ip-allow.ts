/** ipAllow: when non-empty, only clients whose real IP lies in one of the CIDRs are admitted. */
import { IpSet } from '../ip-set.js';
import { NATIVE_IDS, type NativePolicy } from './native-policy.js';

export function ipAllowPolicy(cidrs: readonly string[]): NativePolicy {
  const set = IpSet.from(cidrs);
  return {
    id: NATIVE_IDS.ipAllow,
    name: 'ip-allow',
    checkHead: (req) =>
      set.has(req.clientIp)
        ? null
        : { policyId: NATIVE_IDS.ipAllow, policyName: 'ip-allow', msg: 'Client IP is not in the allow list', matched: req.clientIp, action: 'block', status: 403 },
  };
}
