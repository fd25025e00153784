/**
 * Request ids: a random per-process prefix and a counter. Unique within the process lifetime (across
 * reloads, since the counter is module-wide) and unlikely to collide across workers and restarts; cheap
 * enough for the hot path (no crypto per request).
 */
import { randomBytes } from 'node:crypto';

const prefix = randomBytes(6).toString('base64url');
let counter = 0;

export function nextRequestId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}-${counter.toString(36)}`;
}
