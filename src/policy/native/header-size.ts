/** maxHeaderBytes: request line plus headers larger than the limit are blocked with 431. */
import { NATIVE_IDS, type NativePolicy } from './native-policy.js';

export function headerSizePolicy(max: number): NativePolicy {
  return {
    id: NATIVE_IDS.maxHeaderBytes,
    name: 'max-header-bytes',
    checkHead: (req) =>
      req.headBytes > max
        ? { policyId: NATIVE_IDS.maxHeaderBytes, policyName: 'max-header-bytes', msg: `Request head is ${req.headBytes} bytes (limit ${max})`, matched: String(req.headBytes), action: 'block', status: 431 }
        : null,
  };
}
