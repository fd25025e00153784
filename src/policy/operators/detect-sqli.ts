/**
 * @detectSQLi — libinjection SQL injection detection (TypeScript port, libinjection/sqli.ts); with
 * `capture`, TX.0 is the fingerprint, as ModSecurity v2 sets it.
 */
import type { OperatorSpec } from '../types.js';
import { detectSqli } from './libinjection/sqli.js';
import { AnswerMemo } from './libinjection/answer-memo.js';

/** Shared by every @detectSQLi rule: the answer depends on the value only. */
const answers = new AnswerMemo(detectSqli);

export const detectSQLi: OperatorSpec = {
  name: 'detectSQLi',
  create() {
    return {
      evaluate(otx, value) {
        const fingerprint = answers.get(value);
        if (fingerprint === null) return false;
        if (otx.capturing) otx.setCapture(0, fingerprint);
        return true;
      },
    };
  },
};
