/**
 * The policy engine behind the pipeline seam (src/pipeline/inspection.ts): one Inspector per server
 * group, compiled at configuration load, one Inspection (= one Transaction) per request.
 *
 * Operation modes: `active` enforces decisions; `simulation` evaluates everything (SecLang runs as
 * DetectionOnly, native blocks become alerts) and always returns ALLOW; `disabled` returns no
 * inspection at all. Request data is handed to the engine as byte strings (latin1).
 */
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { GatewayConfig, OperationMode, ServerGroup } from '../config/types.js';
import {
  ALLOW,
  type Decision,
  type Inspection,
  type Inspector,
  type InspectorSet,
  type Outcome,
  type ProtocolViolation,
  type RequestBodyPolicy,
  type RequestFacts,
  type ResponseFacts,
} from '../pipeline/inspection.js';
import { PolicyLoadError, type LoadProblem } from './errors.js';
import { PolicyCompiler } from './crs.js';
import type { CompiledPolicy } from './seclang/parser.js';
import { CollectionStore } from './collection-store.js';
import { Transaction, type Interruption } from './transaction.js';
import { compileNativePolicies, type NativeHit, type NativeRequest, type NativeSet } from './native/index.js';
import { matchFromNative, matchFromRule, summarize, type Alert, type AlertAction, type AlertMatch } from './alerts.js';

export interface InspectorDeps {
  readonly logger: Logger;
  readonly alertSink: (alert: Alert) => void;
}

/** Compiles every server group's policies. Throws PolicyLoadError listing all problems. */
export function createInspectorSet(config: GatewayConfig, deps: InspectorDeps): InspectorSet {
  const configDir = dirname(config.sourceFile);
  const compiler = new PolicyCompiler(configDir);
  const problems: LoadProblem[] = [];
  const inspectors = new Map<string, GroupInspector>();
  const store = new CollectionStore();
  for (const site of config.sites) {
    for (const group of site.serverGroups) {
      let policy: CompiledPolicy | null = null;
      try {
        policy = compiler.compile(group.policies.crs, group.policies.secLang);
      } catch (err) {
        if (err instanceof PolicyLoadError) {
          for (const p of err.problems) problems.push({ ...p, message: `server group "${group.name}": ${p.message}` });
        } else throw err;
      }
      const nativeProblems: { message: string; line: number; col: number }[] = [];
      const native = compileNativePolicies(group.policies.native, nativeProblems, group.pos);
      for (const p of nativeProblems) problems.push({ file: config.sourceFile, line: p.line, ruleId: null, message: `server group "${group.name}": ${p.message}` });
      if (policy) inspectors.set(group.name, new GroupInspector(group, policy, native, store, deps));
    }
  }
  if (problems.length > 0) throw new PolicyLoadError(problems);
  for (const t of compiler.crsLoadTimes) deps.logger.info({ ms: Math.round(t) }, 'CRS compiled');
  return {
    get: (name) => inspectors.get(name),
    protocolViolation(v: ProtocolViolation) {
      const match: AlertMatch = {
        ruleId: 0,
        source: 'protocol',
        policy: v.reason,
        msg: `Protocol violation: ${v.reason}`,
        severity: 'WARNING',
        tags: [],
        matchedVar: null,
        matchedData: v.detail.slice(0, 200),
        logdata: null,
      };
      const group = v.serverGroup ? inspectors.get(v.serverGroup) : undefined;
      deps.alertSink({
        time: new Date().toISOString(),
        transactionId: v.id,
        serverGroup: v.serverGroup,
        operationMode: group?.operationMode ?? null,
        peerIp: v.peerIp,
        clientIp: v.clientIp,
        method: null,
        host: null,
        uri: null,
        ...summarize([match]),
        anomalyScores: null,
        // The pipeline rejected the request before the engine saw it.
        action: 'blocked',
        status: null,
        matches: [match],
      });
    },
    close() {
      for (const i of inspectors.values()) i.native.clear();
      store.clear();
    },
  };
}

class GroupInspector implements Inspector {
  readonly serverGroup: string;
  readonly operationMode: OperationMode;
  /** "crs" when the group runs CRS, else "seclang" (alerts name the policy). */
  readonly policyName: string;

  constructor(
    group: ServerGroup,
    readonly policy: CompiledPolicy,
    readonly native: NativeSet,
    readonly store: CollectionStore,
    readonly deps: InspectorDeps,
  ) {
    this.serverGroup = group.name;
    this.operationMode = group.operationMode;
    this.policyName = group.policies.crs ? 'crs' : 'seclang';
  }

  begin(facts: RequestFacts): Inspection | null {
    if (this.operationMode === 'disabled') return null;
    return new RequestInspection(this, facts);
  }
}

function toPairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([latin1(raw[i]!), latin1(raw[i + 1]!)]);
  return out;
}

/** node:http decodes header bytes as latin1 already; strings with wider chars are re-encoded as UTF-8 bytes. */
function latin1(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

class RequestInspection implements Inspection {
  private readonly tx: Transaction;
  private readonly nativeReq: NativeRequest;
  private readonly nativeHits: NativeHit[] = [];
  private decision: Decision = ALLOW;
  private ended = false;
  /** False when a native policy decided before SecLang phase 1 ran (phase 5 is then skipped too). */
  private engineStarted = false;
  private readonly active: boolean;

  constructor(
    private readonly g: GroupInspector,
    private readonly facts: RequestFacts,
  ) {
    this.active = g.operationMode === 'active';
    const engine = g.policy.settings.ruleEngine;
    this.tx = new Transaction(g.policy, {
      id: facts.id,
      clientIp: facts.clientIp,
      clientPort: facts.peerPort,
      serverIp: facts.localIp,
      serverPort: facts.localPort,
      store: g.store,
      ruleEngine: !this.active && engine === 'On' ? 'DetectionOnly' : engine,
    });
    const headers = toPairs(facts.rawHeaders);
    const hostHeader = headers.find(([k]) => k.toLowerCase() === 'host')?.[1] ?? '';
    const cl = headers.find(([k]) => k.toLowerCase() === 'content-length')?.[1];
    const target = latin1(facts.rawTarget);
    const q = target.indexOf('?');
    let headBytes = facts.method.length + target.length + 12;
    for (const [k, v] of headers) headBytes += k.length + v.length + 4;
    this.nativeReq = {
      clientIp: facts.clientIp,
      method: facts.method,
      host: hostHeader.replace(/:\d+$/, '').toLowerCase(),
      path: (q < 0 ? target : target.slice(0, q)).replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '') || '/',
      rawTarget: target,
      headers,
      headBytes,
      contentLength: cl !== undefined && /^\d+$/.test(cl.trim()) ? Number(cl.trim()) : null,
      now: facts.startedAt,
    };
    this.headers = headers;
    this.target = target;
  }

  private readonly headers: [string, string][];
  private readonly target: string;

  requestHeaders(): Decision {
    for (const p of this.g.native.policies) {
      const hit = p.checkHead?.(this.nativeReq);
      if (hit && this.onNativeHit(hit)) return this.decision;
    }
    this.engineStarted = true;
    const it = this.tx.processRequestHeaders({
      method: this.facts.method,
      uri: this.target,
      protocol: `HTTP/${this.facts.httpVersion}`,
      headers: this.headers,
    });
    return this.fromInterruption(it);
  }

  get requestBody(): RequestBodyPolicy {
    const s = this.g.policy.settings;
    const inspect = this.tx.requestBodyAccess && this.decision.kind === 'allow';
    const nativeBody = this.g.native.policies.some((p) => p.checkBody);
    // As ModSecurity: bodies without files (everything but multipart) are held to
    // SecRequestBodyNoFilesLimit, multipart bodies to SecRequestBodyLimit.
    const bodyLimit = this.tx.bodyProcessor === 'MULTIPART' ? this.tx.requestBodyLimit : Math.min(this.tx.requestBodyLimit, s.requestBodyNoFilesLimit);
    const limit = inspect ? bodyLimit : nativeBody ? s.requestBodyNoFilesLimit : 0;
    // Simulation never rejects: an oversized body is inspected partially and passed on.
    const reject = this.active && inspect && s.requestBodyLimitAction === 'Reject';
    return { limit, overLimit: reject ? 'reject' : 'partial' };
  }

  requestBodyDone(body: Buffer, complete: boolean): Decision {
    if (this.decision.kind !== 'allow') return this.decision;
    const it = this.tx.processRequestBody(body.toString('latin1'), complete);
    const d = this.fromInterruption(it);
    if (d.kind !== 'allow') return d;
    for (const p of this.g.native.policies) {
      const hit = p.checkBody?.(this.nativeReq, this.tx.args, body.length);
      if (hit && this.onNativeHit(hit)) return this.decision;
    }
    return this.decision;
  }

  responseHeaders(res: ResponseFacts): Decision {
    if (this.decision.kind !== 'allow') return this.decision;
    const it = this.tx.processResponseHeaders({ status: res.status, protocol: `HTTP/${res.httpVersion}`, headers: toPairs(res.rawHeaders) });
    return this.fromInterruption(it);
  }

  get responseBodyLimit(): number {
    return this.tx.wantsResponseBody() ? this.g.policy.settings.responseBodyLimit : 0;
  }

  responseBodyDone(body: Buffer, complete: boolean): Decision {
    if (this.decision.kind !== 'allow') return this.decision;
    return this.fromInterruption(this.tx.processResponseBody(body.toString('latin1'), complete));
  }

  end(outcome: Outcome): void {
    if (this.ended) return;
    this.ended = true;
    try {
      if (this.engineStarted) this.tx.processLogging();
    } catch (err) {
      this.g.deps.logger.error({ err, id: this.facts.id }, 'policy logging phase failed');
    }
    const matches: AlertMatch[] = [
      ...this.nativeHits.map(matchFromNative),
      // A `nolog` rule that blocked is still reported: a block without an alert would be a mystery.
      ...this.tx.matches.filter((m) => m.log || m.interrupted).map((m) => matchFromRule(m, this.g.policyName)),
    ];
    if (matches.length === 0) return;
    const action: AlertAction =
      this.decision.kind === 'block' ? 'blocked' : this.decision.kind === 'drop' ? 'dropped' : this.decision.kind === 'redirect' ? 'redirected' : 'detected';
    const alert: Alert = {
      time: new Date(this.facts.startedAt).toISOString(),
      transactionId: this.facts.id,
      serverGroup: this.g.serverGroup,
      operationMode: this.g.operationMode,
      peerIp: this.facts.peerIp,
      clientIp: this.facts.clientIp,
      method: this.facts.method,
      host: this.nativeReq.host || null,
      uri: this.facts.rawTarget,
      ...summarize(matches),
      anomalyScores: {
        total: this.tx.txNumber('anomaly_score'),
        inbound: this.tx.txNumber('inbound_anomaly_score') || this.tx.txNumber('anomaly_score'),
        outbound: this.tx.txNumber('outbound_anomaly_score'),
      },
      action,
      status: outcome.status,
      matches,
    };
    try {
      this.g.deps.alertSink(alert);
    } catch (err) {
      this.g.deps.logger.error({ err, id: this.facts.id }, 'alert sink failed');
    }
  }

  matchedRuleIds(): readonly string[] {
    const ids = this.nativeHits.map((h) => String(h.policyId));
    for (const id of this.tx.matchedRuleIds()) ids.push(String(id));
    return ids;
  }

  /** Records a native hit; returns true when it decided the request (active mode, blocking policy). */
  private onNativeHit(hit: NativeHit): boolean {
    this.nativeHits.push(hit);
    if (hit.action === 'block' && this.active) {
      this.decision = { kind: 'block', status: hit.status, ruleIds: [String(hit.policyId)] };
      return true;
    }
    return false;
  }

  private fromInterruption(it: Interruption | null): Decision {
    if (it === null || !this.active) return this.decision;
    const ruleIds = this.tx.matchedRuleIds().map(String);
    if (!ruleIds.includes(String(it.ruleId))) ruleIds.push(String(it.ruleId));
    this.decision =
      it.action === 'drop'
        ? { kind: 'drop', ruleIds }
        : it.action === 'redirect'
          ? { kind: 'redirect', status: it.status, location: it.location ?? '/', ruleIds }
          : { kind: 'block', status: it.status, ruleIds };
    return this.decision;
  }
}
