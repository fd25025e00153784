/**
 * An honest, tiny implementation of the Inspector interface for pipeline tests: rule 9001 matches a path
 * starting with /attack (phase 1), rule 9002 a request body containing "evil" (phase 2), rule 9003 a
 * response header `x-leak` (phase 3). `active` blocks, `simulation` records and allows, `disabled` returns
 * no inspection. It records every call so tests can assert the phase order and `end()` exactly once.
 */
import type { OperationMode } from '../../src/config/types.js';
import { ALLOW, type Decision, type Inspection, type Inspector, type InspectorSet, type Outcome,
  type ProtocolViolation, type RequestBodyPolicy, type RequestFacts, type ResponseFacts } from '../../src/pipeline/inspection.js';

export interface Recorded {
  readonly facts: RequestFacts;
  readonly calls: string[];
  readonly matched: string[];
  body: Buffer | null;
  bodyComplete: boolean | null;
  responseBody?: Buffer;
  responseBodyComplete?: boolean;
  outcomes: Outcome[];
  /** How often the pipeline read responseBodyLimit (the real engine computes it on every read). */
  responseBodyLimitReads?: number;
}

export interface DoubleOptions {
  readonly operationMode?: OperationMode;
  readonly requestBody?: RequestBodyPolicy;
  /** What a match does in active mode. */
  readonly action?: 'block' | 'drop' | 'redirect';
  /** > 0: phase 4 buffers this much response body; rule 9004 matches "secret" in it. */
  readonly responseBodyLimit?: number;
}

class DoubleInspection implements Inspection {
  constructor(private readonly r: Recorded, private readonly mode: OperationMode,
    readonly requestBody: RequestBodyPolicy, private readonly action: 'block' | 'drop' | 'redirect',
    private readonly bodyLimit: number) {}

  get responseBodyLimit(): number {
    this.r.responseBodyLimitReads = (this.r.responseBodyLimitReads ?? 0) + 1;
    return this.bodyLimit;
  }

  private decide(ruleId: string | null): Decision {
    if (ruleId === null) return ALLOW;
    this.r.matched.push(ruleId);
    if (this.mode !== 'active') return ALLOW;
    const ids = [...this.r.matched];
    if (this.action === 'drop') return { kind: 'drop', ruleIds: ids };
    if (this.action === 'redirect') return { kind: 'redirect', status: 302, location: '/blocked.html', ruleIds: ids };
    return { kind: 'block', status: 403, ruleIds: ids };
  }

  requestHeaders(): Decision {
    this.r.calls.push('requestHeaders');
    return this.decide(this.r.facts.rawTarget.startsWith('/attack') ? '9001' : null);
  }

  requestBodyDone(body: Buffer, complete: boolean): Decision {
    this.r.calls.push('requestBodyDone');
    this.r.body = Buffer.from(body);
    this.r.bodyComplete = complete;
    return this.decide(body.includes('evil') ? '9002' : null);
  }

  responseHeaders(res: ResponseFacts): Decision {
    this.r.calls.push('responseHeaders');
    let leak = false;
    for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]!.toLowerCase() === 'x-leak') leak = true;
    return this.decide(leak ? '9003' : null);
  }

  responseBodyDone(body: Buffer, complete: boolean): Decision {
    this.r.calls.push('responseBodyDone');
    this.r.responseBody = Buffer.from(body);
    this.r.responseBodyComplete = complete;
    return this.decide(body.includes('secret') ? '9004' : null);
  }

  end(outcome: Outcome): void {
    this.r.calls.push('end');
    this.r.outcomes.push(outcome);
  }

  matchedRuleIds(): readonly string[] {
    return this.r.matched;
  }
}

export class InspectorDouble implements Inspector, InspectorSet {
  readonly recorded: Recorded[] = [];
  readonly violations: ProtocolViolation[] = [];
  readonly operationMode: OperationMode;
  private readonly requestBodyPolicy: RequestBodyPolicy;
  private readonly action: 'block' | 'drop' | 'redirect';
  private readonly responseBodyLimit: number;

  constructor(readonly serverGroup: string, options: DoubleOptions = {}) {
    this.operationMode = options.operationMode ?? 'active';
    this.requestBodyPolicy = options.requestBody ?? { limit: 0, overLimit: 'partial' };
    this.action = options.action ?? 'block';
    this.responseBodyLimit = options.responseBodyLimit ?? 0;
  }

  begin(facts: RequestFacts): Inspection | null {
    if (this.operationMode === 'disabled') return null;
    const r: Recorded = { facts, calls: [], matched: [], body: null, bodyComplete: null, outcomes: [] };
    this.recorded.push(r);
    return new DoubleInspection(r, this.operationMode, this.requestBodyPolicy, this.action, this.responseBodyLimit);
  }

  get(serverGroup: string): Inspector | undefined {
    return serverGroup === this.serverGroup ? this : undefined;
  }

  protocolViolation(v: ProtocolViolation): void {
    this.violations.push(v);
  }

  close(): void {}
}
