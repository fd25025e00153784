/**
 * Native policies: checks configured in YAML rather than SecLang, evaluated in the same transaction
 * (before the SecLang phase of the same stage). Each has a fixed id (built-ins, see docs/POLICY.md) or
 * the custom rule's id, and a name, both carried by alerts.
 */
import type { CollectionView } from '../collection.js';

export interface NativeRequest {
  readonly clientIp: string;
  readonly method: string;
  /** Host header without port, lower-case ('' when absent). */
  readonly host: string;
  /** Path of the request target (before '?'), raw. */
  readonly path: string;
  readonly rawTarget: string;
  /** [name, value] pairs. */
  readonly headers: readonly (readonly [string, string])[];
  /** Request line + header bytes as received. */
  readonly headBytes: number;
  readonly contentLength: number | null;
  /** Milliseconds (Date.now()). */
  readonly now: number;
}

export interface NativeHit {
  readonly policyId: number;
  readonly policyName: string;
  readonly msg: string;
  /** What matched, for the alert (truncated there). */
  readonly matched: string;
  /** 'block' blocks in active mode; 'alert' only alerts. */
  readonly action: 'block' | 'alert';
  readonly status: number;
}

export interface NativePolicy {
  readonly id: number;
  readonly name: string;
  /** Checks on the request head. */
  checkHead?(req: NativeRequest): NativeHit | null;
  /** Checks once arguments (query + body) and the body length are known. */
  checkBody?(req: NativeRequest, args: CollectionView, bodyLength: number): NativeHit | null;
}

/** Fixed ids of the built-in native policies. */
export const NATIVE_IDS = Object.freeze({
  ipDeny: 1000001,
  ipAllow: 1000002,
  allowedMethods: 1000003,
  maxUrlBytes: 1000004,
  maxHeaderBytes: 1000005,
  maxBodyBytes: 1000006,
  rateLimit: 1000007,
});
