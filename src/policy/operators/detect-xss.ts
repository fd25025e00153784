/** @detectXSS — libinjection XSS detection; with `capture`, TX.0 is the value that matched (v2). */
import type { OperatorSpec } from '../types.js';
import { ensureLibinjection, isXss } from './libinjection.js';

export const detectXSS: OperatorSpec = {
  name: 'detectXSS',
  create() {
    ensureLibinjection();
    return {
      evaluate(otx, value) {
        if (!isXss(value)) return false;
        if (otx.capturing) otx.setCapture(0, value);
        return true;
      },
    };
  },
};
