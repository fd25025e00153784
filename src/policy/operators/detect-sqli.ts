/**
 * @detectSQLi — libinjection SQL injection detection (TypeScript port, libinjection/sqli.ts); with
 * `capture`, TX.0 is the fingerprint, as ModSecurity v2 sets it.
 */
import type { OperatorSpec } from '../types.js';
import { detectSqli } from './libinjection/sqli.js';

export const detectSQLi: OperatorSpec = {
  name: 'detectSQLi',
  create() {
    return {
      evaluate(otx, value) {
        const fingerprint = detectSqli(value);
        if (fingerprint === null) return false;
        if (otx.capturing) otx.setCapture(0, fingerprint);
        return true;
      },
    };
  },
};
