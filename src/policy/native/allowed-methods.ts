/** allowedMethods: any other request method is blocked with 405. Method names compare exactly (HTTP methods are case-sensitive). */
import { NATIVE_IDS, type NativePolicy } from './native-policy.js';

export function allowedMethodsPolicy(methods: readonly string[]): NativePolicy {
  const allowed = new Set(methods);
  return {
    id: NATIVE_IDS.allowedMethods,
    name: 'allowed-methods',
    checkHead: (req) =>
      allowed.has(req.method)
        ? null
        : { policyId: NATIVE_IDS.allowedMethods, policyName: 'allowed-methods', msg: `Method ${req.method} is not allowed`, matched: req.method, action: 'block', status: 405 },
  };
}
