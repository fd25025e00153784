/**
 * maxBodyBytes: a body larger than the limit is blocked with 413 — at the head when Content-Length
 * announces it, else when the buffered body is known to exceed it.
 */
import { NATIVE_IDS, type NativeHit, type NativePolicy } from './native-policy.js';

export function bodySizePolicy(max: number): NativePolicy {
  const hit = (n: number): NativeHit => ({
    policyId: NATIVE_IDS.maxBodyBytes,
    policyName: 'max-body-bytes',
    msg: `Request body is ${n} bytes (limit ${max})`,
    matched: String(n),
    action: 'block',
    status: 413,
  });
  return {
    id: NATIVE_IDS.maxBodyBytes,
    name: 'max-body-bytes',
    checkHead: (req) => (req.contentLength !== null && req.contentLength > max ? hit(req.contentLength) : null),
    checkBody: (_req, _args, n) => (n > max ? hit(n) : null),
  };
}
