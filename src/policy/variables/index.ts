/** The variable registry: every variable SecLang may name, by upper-case name. */
import type { VariableSpec } from './variable-spec.js';
import { argsVariables } from './args.js';
import { requestLineVariables } from './request-line.js';
import { requestHeadersVariables } from './request-headers.js';
import { requestCookiesVariables } from './request-cookies.js';
import { requestBodyVariables } from './request-body.js';
import { filesVariables } from './files.js';
import { multipartVariables } from './multipart.js';
import { xmlVariables } from './xml.js';
import { responseVariables } from './response.js';
import { connectionVariables } from './connection.js';
import { timeVariables } from './time.js';
import { matchedVariables } from './matched.js';
import { txVariables } from './tx.js';
import { persistentVariables } from './persistent.js';
import { ruleMetadataVariables } from './rule-metadata.js';
import { environmentVariables } from './environment.js';

export type { VariableSpec } from './variable-spec.js';

const all: VariableSpec[] = [
  ...argsVariables,
  ...requestLineVariables,
  ...requestHeadersVariables,
  ...requestCookiesVariables,
  ...requestBodyVariables,
  ...filesVariables,
  ...multipartVariables,
  ...xmlVariables,
  ...responseVariables,
  ...connectionVariables,
  ...timeVariables,
  ...matchedVariables,
  ...txVariables,
  ...persistentVariables,
  ...ruleMetadataVariables,
  ...environmentVariables,
];

/** One object shape for every spec: the evaluation loop reads these fields per rule and target. */
function normalized(v: VariableSpec): VariableSpec {
  return {
    name: v.name,
    kind: v.kind,
    cacheable: v.cacheable,
    selectorIsPath: v.selectorIsPath === true,
    scalar: v.scalar,
    collection: v.collection,
  };
}

export const variables: ReadonlyMap<string, VariableSpec> = new Map(all.map((v) => [v.name, normalized(v)]));

export function getVariable(name: string): VariableSpec | undefined {
  return variables.get(name.toUpperCase());
}
