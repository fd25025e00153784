/**
 * The seam between the request pipeline (every mode: alias, bridge, sniff) and the policy engine.
 *
 * The pipeline owns sockets, parsing and streaming; the engine owns decisions. The engine never sees a
 * socket, and the pipeline never interprets a rule. One `Inspector` is compiled per server group at
 * configuration load; one `Inspection` is created per HTTP request (a ModSecurity "transaction").
 *
 * A block is a value (`Decision`), never an exception. The operation mode (active / simulation /
 * disabled) is applied inside the inspector: in `simulation` every call returns `ALLOW` while the
 * alerts are still recorded, and for `disabled` `begin()` returns null.
 */
import type { OperationMode } from '../config/types.js';

/** What the pipeline knows about a request before any of its body has arrived. */
export interface RequestFacts {
  /** Unique per request; also the incident id on the block page and in alerts. */
  readonly id: string;
  readonly serverGroup: string;
  readonly peerIp: string;
  readonly peerPort: number;
  /** Real client IP: the peer, or the forwarded header's value when the peer is a trusted proxy. */
  readonly clientIp: string;
  readonly localIp: string;
  readonly localPort: number;
  readonly tls: boolean;
  readonly method: string;
  /** Request target exactly as received ("/a/b?x=1", or absolute form). */
  readonly rawTarget: string;
  /** "1.0" | "1.1" | "2.0" … */
  readonly httpVersion: string;
  /** Header pairs as received: [name0, value0, name1, value1, …] (node:http `rawHeaders` order). */
  readonly rawHeaders: readonly string[];
  /** Date.now() when the request head was complete. */
  readonly startedAt: number;
}

export type Decision =
  | { readonly kind: 'allow' }
  | {
      readonly kind: 'block';
      readonly status: number;
      readonly ruleIds: readonly string[];
    }
  | { readonly kind: 'drop'; readonly ruleIds: readonly string[] }
  | {
      readonly kind: 'redirect';
      readonly status: number;
      readonly location: string;
      readonly ruleIds: readonly string[];
    };

export const ALLOW: Decision = Object.freeze({ kind: 'allow' });

export interface RequestBodyPolicy {
  /** Bytes of request body the engine wants buffered before phase 2; 0 = no inspection, stream through. */
  readonly limit: number;
  /** What to do with a body larger than `limit`: 'reject' = 413, 'partial' = inspect the first `limit` bytes, stream the rest. */
  readonly overLimit: 'reject' | 'partial';
}

export interface ResponseFacts {
  readonly status: number;
  /** Header pairs as received from the upstream. */
  readonly rawHeaders: readonly string[];
  readonly httpVersion: string;
}

export interface Outcome {
  /** Status sent to the client (0 when the connection was reset / dropped). */
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Set when the request failed in the pipeline (upstream refused, timeout, client abort …). */
  readonly error: string | null;
  readonly durationMs: number;
}

export interface Inspection {
  /** Phase 1 (and native policies that only need the head). */
  requestHeaders(): Decision;
  readonly requestBody: RequestBodyPolicy;
  /**
   * Phase 2. Called exactly once after requestHeaders() allowed, with the buffered body (possibly empty)
   * and whether it is the complete body (false when `overLimit: 'partial'` cut it).
   */
  requestBodyDone(body: Buffer, complete: boolean): Decision;
  /** Phase 3. */
  responseHeaders(res: ResponseFacts): Decision;
  /** Bytes of response body the engine wants buffered for phase 4; 0 = stream the response through. */
  readonly responseBodyLimit: number;
  /** Phase 4, only called when responseBodyLimit > 0. */
  responseBodyDone(body: Buffer, complete: boolean): Decision;
  /** Phase 5 (logging): emits the alert line(s). Called exactly once per inspection, whatever happened. */
  end(outcome: Outcome): void;
  /** Every rule id that matched so far (for the optional rule-ids response header). */
  matchedRuleIds(): readonly string[];
}

export interface Inspector {
  readonly serverGroup: string;
  readonly operationMode: OperationMode;
  /** null when the group is `disabled` (nothing is evaluated, nothing is alerted). */
  begin(facts: RequestFacts): Inspection | null;
}

/**
 * Reports a problem the pipeline saw before the engine could (malformed HTTP, smuggling attempt,
 * oversized head). It becomes an alert in the same alert stream as rule matches.
 */
export interface ProtocolViolation {
  readonly id: string;
  readonly serverGroup: string | null;
  readonly peerIp: string;
  readonly clientIp: string;
  readonly reason: string;       // stable code, e.g. 'HPE_INVALID_HEADER_TOKEN', 'request-smuggling'
  readonly detail: string;
}

export interface InspectorSet {
  /** The inspector of a server group, by name. */
  get(serverGroup: string): Inspector | undefined;
  /** Records a protocol violation seen by the pipeline. */
  protocolViolation(v: ProtocolViolation): void;
  /** Releases timers (rate-limit buckets, collections). */
  close(): void;
}
