/**
 * The alert: one JSON object per inspected request that matched anything (a logged SecLang rule or a
 * native policy), written as one line by the alert sink. Matched data is truncated to 200 bytes.
 */
import type { OperationMode } from '../config/types.js';
import type { RuleMatch } from './transaction.js';
import { severityName } from './rule.js';
import type { NativeHit } from './native/native-policy.js';

export const MATCHED_DATA_LIMIT = 200;

export type AlertAction = 'blocked' | 'dropped' | 'redirected' | 'detected';

export interface AlertMatch {
  /** Rule id (SecLang) or native policy id. */
  readonly ruleId: number;
  /** 'seclang' for SecLang/CRS rules, 'native' for native policies, 'protocol' for pipeline violations. */
  readonly source: 'seclang' | 'native' | 'protocol';
  /** Policy name: "crs"/"seclang" for rules, the native policy's name, or the violation code. */
  readonly policy: string;
  readonly msg: string;
  readonly severity: string | null;
  readonly tags: readonly string[];
  /** Variable that matched, e.g. "ARGS:id". */
  readonly matchedVar: string | null;
  /** Matched value, truncated to 200 bytes. */
  readonly matchedData: string | null;
  readonly logdata: string | null;
}

export interface Alert {
  readonly time: string;
  readonly transactionId: string;
  readonly serverGroup: string | null;
  readonly operationMode: OperationMode | null;
  readonly peerIp: string;
  readonly clientIp: string;
  readonly method: string | null;
  readonly host: string | null;
  readonly uri: string | null;
  readonly ruleIds: readonly number[];
  readonly messages: readonly string[];
  readonly severities: readonly (string | null)[];
  readonly matchedData: readonly string[];
  readonly anomalyScores: { readonly total: number; readonly inbound: number; readonly outbound: number } | null;
  /** What the gateway did: blocked/dropped/redirected in active mode, detected otherwise. */
  readonly action: AlertAction;
  /** Status sent to the client (0 when reset, null when not known). */
  readonly status: number | null;
  readonly matches: readonly AlertMatch[];
}

export function truncate(s: string, limit = MATCHED_DATA_LIMIT): string {
  return s.length <= limit ? s : s.slice(0, limit);
}

export function matchFromRule(m: RuleMatch, policy: string): AlertMatch {
  const last = m.matched.length > 0 ? m.matched[m.matched.length - 1]! : null;
  return {
    ruleId: m.ruleId,
    source: 'seclang',
    policy,
    msg: m.msg,
    severity: severityName(m.severity),
    tags: m.tags,
    matchedVar: last && last.name !== '' ? last.name : null,
    matchedData: last && last.name !== '' ? truncate(last.value) : null,
    logdata: m.logdata === '' ? null : truncate(m.logdata),
  };
}

export function matchFromNative(h: NativeHit): AlertMatch {
  return {
    ruleId: h.policyId,
    source: 'native',
    policy: h.policyName,
    msg: h.msg,
    severity: h.action === 'block' ? 'CRITICAL' : 'WARNING',
    tags: [],
    matchedVar: null,
    matchedData: truncate(h.matched),
    logdata: null,
  };
}

/** Fills the flattened fields from the match list. */
export function summarize(matches: readonly AlertMatch[]): Pick<Alert, 'ruleIds' | 'messages' | 'severities' | 'matchedData'> {
  return {
    ruleIds: matches.map((m) => m.ruleId),
    messages: matches.map((m) => m.msg),
    severities: matches.map((m) => m.severity),
    matchedData: matches.filter((m) => m.matchedData !== null).map((m) => m.matchedData!),
  };
}
