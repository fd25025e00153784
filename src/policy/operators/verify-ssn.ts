/**
 * @verifySSN — a regex candidate that looks like a valid US social security number, by ModSecurity v2's
 * rules: exactly nine digits, not all equal, not an ascending run, area/group/serial non-zero, area < 740
 * and not 666.
 */
import type { OperatorSpec } from '../types.js';
import { checkedNumberSearch } from './checked-number-search.js';

export function ssnValid(s: string): boolean {
  const num: number[] = [];
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) continue;
    if (digits < 9) num.push(c);
    digits++;
  }
  if (digits !== 9) return false;
  let sequential = 0, repetitions = 0;
  for (let i = 0; i < 8; i++) {
    if (num[i] === num[i + 1]! - 1) sequential++;
    if (num[i] === num[i + 1]) repetitions++;
  }
  if (repetitions === 8 || sequential === 8) return false;
  const area = num[0]! * 100 + num[1]! * 10 + num[2]!;
  const group = num[3]! * 10 + num[4]!;
  const serial = num[5]! * 1000 + num[6]! * 100 + num[7]! * 10 + num[8]!;
  if (area === 0 || group === 0 || serial === 0) return false;
  if (area >= 740 || area === 666) return false;
  return true;
}

export const verifySSN: OperatorSpec = {
  name: 'verifySSN',
  create(param) { return checkedNumberSearch('verifySSN', param, ssnValid); },
};
