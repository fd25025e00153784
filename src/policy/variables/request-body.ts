/** Request body variables, set in phase 2 (REQBODY_PROCESSOR already in phase 1). */
import { computedScalar, storedScalar, type VariableSpec } from './variable-spec.js';

export const requestBodyVariables: readonly VariableSpec[] = [
  storedScalar('REQUEST_BODY'),
  storedScalar('REQUEST_BODY_LENGTH'),
  storedScalar('REQBODY_ERROR'),
  storedScalar('REQBODY_ERROR_MSG'),
  storedScalar('REQBODY_PROCESSOR_ERROR'),
  storedScalar('REQBODY_PROCESSOR_ERROR_MSG'),
  storedScalar('URLENCODED_ERROR'),
  storedScalar('INBOUND_DATA_ERROR'),
  storedScalar('FULL_REQUEST'),
  storedScalar('FULL_REQUEST_LENGTH'),
  // The processor can change within phase 1 (ctl:requestBodyProcessor), so it is read live. Without a
  // processor it is the empty string, as in ModSecurity v2 (CRS 901340 tests it with !@rx).
  computedScalar('REQBODY_PROCESSOR', (tx) => tx.bodyProcessor ?? ''),
];
