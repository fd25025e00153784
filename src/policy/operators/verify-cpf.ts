/**
 * @verifyCPF — a regex candidate that is a valid Brazilian CPF: the first 11 digits (other characters
 * ignored), not one of the known dummy numbers, with both check digits right (ModSecurity v2's cpf_verify).
 */
import type { OperatorSpec } from '../types.js';
import { checkedNumberSearch } from './checked-number-search.js';

const DUMMY = new Set(['00000000000', '01234567890', '11111111111', '22222222222', '33333333333', '44444444444',
  '55555555555', '66666666666', '77777777777', '88888888888', '99999999999']);

export function cpfValid(s: string): boolean {
  const cpf: number[] = [];
  for (let i = 0; i < s.length && cpf.length < 11; i++) {
    const c = s.charCodeAt(i) - 0x30;
    if (c >= 0 && c <= 9) cpf.push(c);
  }
  if (cpf.length !== 11 || DUMMY.has(cpf.join(''))) return false;
  const check = (n: number) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += cpf[i]! * (n + 1 - i);
    const f = sum % 11;
    return f < 2 ? 0 : 11 - f;
  };
  return cpf[9] === check(9) && cpf[10] === check(10);
}

export const verifyCPF: OperatorSpec = {
  name: 'verifyCPF',
  create(param) { return checkedNumberSearch('verifyCPF', param, cpfValid); },
};
