/**
 * @detectXSS — libinjection XSS detection (TypeScript port, libinjection/xss.ts); with `capture`, TX.0 is
 * the value that matched, as ModSecurity v2 sets it.
 */
import type { OperatorSpec } from '../types.js';
import { detectXss } from './libinjection/xss.js';
import { AnswerMemo } from './libinjection/answer-memo.js';

/** Shared by every @detectXSS rule: the answer depends on the value only. */
const answers = new AnswerMemo(detectXss);

export const detectXSS: OperatorSpec = {
  name: 'detectXSS',
  create() {
    return {
      evaluate(otx, value) {
        if (!answers.get(value)) return false;
        if (otx.capturing) otx.setCapture(0, value);
        return true;
      },
    };
  },
};
