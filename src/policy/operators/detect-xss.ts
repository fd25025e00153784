/**
 * @detectXSS — libinjection XSS detection (TypeScript port, libinjection/xss.ts); with `capture`, TX.0 is
 * the value that matched, as ModSecurity v2 sets it.
 */
import type { OperatorSpec } from '../types.js';
import { detectXss } from './libinjection/xss.js';
import { AnswerMemo } from './libinjection/answer-memo.js';

/** Shared by every @detectXSS rule: the answer depends on the value only. */
const answers = new AnswerMemo(detectXss);

/**
 * libinjection reports XSS only for a tag, comment or doctype (all start after '<') or for an attribute
 * value that follows a dangerous attribute name (reached only through '='); in the value contexts the
 * first value has no attribute name. So a value with neither byte is never XSS, and the engine may skip
 * it before transforming it (value-filter.ts). Checked by fuzzing in libinjection-operators.test.ts.
 */
const XSS_NEEDS = (() => {
  const s = new Uint32Array(8);
  for (const b of [0x3c, 0x3d]) s[b >>> 5]! |= 1 << (b & 31);
  return Object.freeze([s]);
})();

export const detectXSS: OperatorSpec = {
  name: 'detectXSS',
  create() {
    return {
      evaluate(otx, value) {
        if (!answers.get(value)) return false;
        if (otx.capturing) otx.setCapture(0, value);
        return true;
      },
      requiredBytes: XSS_NEEDS,
    };
  },
};
