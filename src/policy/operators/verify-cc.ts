/** @verifyCC — a regex candidate that passes the Luhn check (credit card numbers), as ModSecurity v2. */
import type { OperatorSpec } from '../types.js';
import { checkedNumberSearch } from './checked-number-search.js';

const WEIGHTED = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];

/** Luhn mod-10 over the digits of `s` (other characters ignored); no digits is not valid. */
export function luhnValid(s: string): boolean {
  const sum = [0, 0];
  let odd = 0, digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) continue;
    sum[0]! += odd === 0 ? WEIGHTED[c]! : c;
    sum[1]! += odd === 1 ? WEIGHTED[c]! : c;
    odd = 1 - odd;
    digits++;
  }
  if (digits === 0) return false;
  return sum[odd]! % 10 === 0;
}

export const verifyCC: OperatorSpec = {
  name: 'verifyCC',
  create(param) { return checkedNumberSearch('verifyCC', param, luhnValid); },
};
