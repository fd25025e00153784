/**
 * The cyclic health log: the last `capacity` (3000) health-check results of this gateway process,
 * in a fixed array of slots that is overwritten in a cycle and never grows. Operators read it with
 * `portcullis health-log` to prove the path gateway → server → back works.
 *
 * Every entry gets a sequence number (1, 2, 3 …, never reused), so a reader that follows the log asks
 * for "everything after N" and notices when the ring overtook it.
 */

/** How many entries the ring keeps (the number operators of the commercial appliances expect). */
export const HEALTH_LOG_CAPACITY = 3000;

export interface HealthLogEntry {
  readonly seq: number;
  /** Epoch milliseconds when the check started. */
  readonly time: number;
  /** Local address:port of the check's socket ("" when no socket was opened). */
  readonly gateway: string;
  /** The server's address:port. */
  readonly server: string;
  readonly url: string;
  /** HTTP status of the answer, or null when the check got no answer. */
  readonly status: number | null;
  /** Why the check failed without a status (ECONNREFUSED, timeout …), or null. */
  readonly error: string | null;
  /** Whether the status was in the expected range. */
  readonly ok: boolean;
  readonly latencyMs: number;
}

export type HealthLogRecord = Omit<HealthLogEntry, 'seq'>;

export class HealthLog {
  private readonly slots: Array<HealthLogEntry | undefined>;
  /** Sequence number of the newest entry (0 = empty). */
  private last = 0;

  constructor(readonly capacity: number = HEALTH_LOG_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`health log capacity must be a positive integer (got ${capacity})`);
    this.slots = new Array<HealthLogEntry | undefined>(capacity);
  }

  append(record: HealthLogRecord): HealthLogEntry {
    const entry: HealthLogEntry = { seq: ++this.last, ...record };
    this.slots[(entry.seq - 1) % this.capacity] = entry;
    return entry;
  }

  /** Number of entries held (at most `capacity`). */
  get size(): number {
    return Math.min(this.last, this.capacity);
  }

  /** Sequence number of the newest entry, 0 when nothing was logged yet. */
  get lastSeq(): number {
    return this.last;
  }

  /** Entries with seq > `after`, oldest first (the ring's whole content by default). */
  entries(after = 0): HealthLogEntry[] {
    const oldest = Math.max(after + 1, this.last - this.capacity + 1, 1);
    const out: HealthLogEntry[] = [];
    for (let seq = oldest; seq <= this.last; seq++) out.push(this.slots[(seq - 1) % this.capacity]!);
    return out;
  }
}

/**
 * The control socket's answer to {"cmd":"health-log","after":N}: the entries newer than N (all of them
 * without `after`), oldest first, and the newest sequence number to ask after next time.
 */
export function healthLogReply(log: HealthLog, request: { readonly [key: string]: unknown }): {
  ok: true; capacity: number; lastSeq: number; entries: HealthLogEntry[];
} {
  const after = typeof request['after'] === 'number' && Number.isInteger(request['after']) && request['after'] >= 0 ? request['after'] : 0;
  return { ok: true, capacity: log.capacity, lastSeq: log.lastSeq, entries: log.entries(after) };
}
