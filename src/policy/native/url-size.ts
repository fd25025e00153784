/** maxUrlBytes: a request target longer than the limit is blocked with 414. */
import { NATIVE_IDS, type NativePolicy } from './native-policy.js';

export function urlSizePolicy(max: number): NativePolicy {
  return {
    id: NATIVE_IDS.maxUrlBytes,
    name: 'max-url-bytes',
    checkHead: (req) =>
      req.rawTarget.length > max
        ? { policyId: NATIVE_IDS.maxUrlBytes, policyName: 'max-url-bytes', msg: `URL is ${req.rawTarget.length} bytes (limit ${max})`, matched: req.rawTarget, action: 'block', status: 414 }
        : null,
  };
}
