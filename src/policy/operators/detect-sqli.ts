/** @detectSQLi — libinjection SQL injection detection; with `capture`, TX.0 is the fingerprint (v2). */
import type { OperatorSpec } from '../types.js';
import { ensureLibinjection, sqliFingerprint } from './libinjection.js';

export const detectSQLi: OperatorSpec = {
  name: 'detectSQLi',
  create() {
    ensureLibinjection();
    return {
      evaluate(otx, value) {
        const fingerprint = sqliFingerprint(value);
        if (fingerprint === null) return false;
        if (otx.capturing) otx.setCapture(0, fingerprint);
        return true;
      },
    };
  },
};
