/** TIME* (server local time, as ModSecurity) and DURATION (microseconds since the transaction began). */
import { computedScalar, type VariableSpec } from './variable-spec.js';

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

export const timeVariables: readonly VariableSpec[] = [
  computedScalar('TIME', () => {
    const d = new Date();
    return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  }),
  computedScalar('TIME_DAY', () => String(new Date().getDate())),
  computedScalar('TIME_EPOCH', () => String(Math.floor(Date.now() / 1000))),
  computedScalar('TIME_HOUR', () => String(new Date().getHours())),
  computedScalar('TIME_MIN', () => String(new Date().getMinutes())),
  computedScalar('TIME_MON', () => String(new Date().getMonth())),
  computedScalar('TIME_SEC', () => String(new Date().getSeconds())),
  computedScalar('TIME_WDAY', () => String(new Date().getDay())),
  computedScalar('TIME_YEAR', () => String(new Date().getFullYear())),
  computedScalar('DURATION', (tx) => String(Math.max(0, Math.round((performance.now() - tx.startedHr) * 1000)))),
];
