/**
 * One RE2.Set pass over a large value for a group of patterns, instead of one RE2 call per pattern.
 *
 * CRS applies many @rx rules to the same transformed value (the 942 SQLi rules all run after
 * `t:urlDecodeUni` on every argument, the Java and protocol rules after `t:lowercase` on the body …). On
 * a value of a few KB (free text, a form body) each RE2 call scans the whole value; the prefilters let
 * most of them through because large text holds most bytes and many short literals. RE2.Set compiles
 * the group's patterns into one automaton and reports, in one scan, which of them match somewhere in
 * the value: on a 1.8 KB text, 29 CRS 942 patterns cost ≈ 108 µs one by one and ≈ 5.5 µs as a set.
 *
 * Exact: the set is built from the same translated RE2 sources, with the same options (no flags:
 * case-sensitive, one-line, no dot-nl, UTF-8), over the same UTF-8 subject bytes that each pattern's
 * own test() receives, and RE2::Set with an unanchored match answers "does pattern i match anywhere",
 * which is test()'s question. Only a "no" is taken from the set; a member the set reports is tested on
 * its own as before (exec() still needs its submatches). When RE2 cannot build or run the set (its
 * memory budget), the batch answers "unknown" and the members run one by one.
 * (test/policy/regex/pattern-batch.test.ts compares set and single answers on the CRS patterns.)
 *
 * Which patterns form a batch is the engine's choice (src/policy/regex-batches.ts: the @rx links that
 * share a transformation chain). Values shorter than BATCH_MIN_SUBJECT are not batched: there the
 * prefilters already reject most calls and a pattern costs well under a microsecond.
 */
import { isAscii } from 'node:buffer';
import { createRequire } from 'node:module';

interface Re2SetInstance {
  match(subject: Buffer): number[];
}
type Re2SetConstructor = new (sources: readonly string[], flags?: string) => Re2SetInstance;

const require = createRequire(import.meta.url);
let setConstructor: Re2SetConstructor | null | undefined;
function loadRe2Set(): Re2SetConstructor | null {
  if (setConstructor === undefined) {
    try {
      setConstructor = ((require('re2') as { Set?: Re2SetConstructor }).Set ?? null);
    } catch {
      setConstructor = null;
    }
  }
  return setConstructor;
}

/** Values (after transformation) at least this long are answered by their pattern's batch. */
export const BATCH_MIN_SUBJECT = 256;
/** Larger values are converted and scanned per call (the ring must not pin large bodies). */
const MAX_RING_SUBJECT = 64 * 1024;
/**
 * Large subjects remembered with their UTF-8 bytes and batch answers. A rule walks every value of its
 * targets before the next rule starts, so the ring holds every large value of a request (the body,
 * long arguments, and their transformed forms), not only the last few.
 */
const RING = 32;
const ringSubjects: (string | null)[] = new Array<string | null>(RING).fill(null);
const ringBytes: Buffer[] = new Array<Buffer>(RING).fill(Buffer.alloc(0));
/** Per ring slot: answers by batch id (bit i set = member i matches); undefined = not asked yet. */
const ringAnswers: (Uint32Array | null | undefined)[][] = Array.from({ length: RING }, () => []);
let ringNext = 0;
const ringSlots = new Map<string, number>();

function utf8OfLatin1(s: string): Buffer {
  const b = Buffer.from(s, 'latin1');
  // A latin1 byte string's UTF-8 form is what RE2 matches code point by code point; for ASCII it is the
  // latin1 copy itself.
  return isAscii(b) ? b : Buffer.from(s, 'utf8');
}

/** The ring slot of a large subject (converted on first sight), or -1 when it is too large to keep. */
function slotOf(s: string): number {
  // A Map, not a scan comparing with ===: large values of equal length (a body and its lower-cased
  // form) would be compared byte by byte. The string's hash is computed once and kept by V8.
  const known = ringSlots.get(s);
  if (known !== undefined) return known;
  if (s.length > MAX_RING_SUBJECT) return -1;
  const i = ringNext;
  ringNext = (ringNext + 1) % RING;
  const old = ringSubjects[i];
  if (old !== null) ringSlots.delete(old!);
  ringSlots.set(s, i);
  ringSubjects[i] = s;
  ringBytes[i] = utf8OfLatin1(s);
  ringAnswers[i]!.length = 0;
  return i;
}

/** UTF-8 bytes of a subject of BATCH_MIN_SUBJECT bytes or more, converted once while it is in the ring. */
export function largeSubjectBytes(s: string): Buffer {
  const i = slotOf(s);
  return i < 0 ? utf8OfLatin1(s) : ringBytes[i]!;
}

let nextBatchId = 0;

export class PatternBatch {
  readonly id = nextBatchId++;
  readonly size: number;
  private set: Re2SetInstance | null;

  /** `sources`: RE2 sources exactly as the members give them to `new RE2(source)`. */
  constructor(sources: readonly string[]) {
    this.size = sources.length;
    const RE2Set = loadRe2Set();
    let set: Re2SetInstance | null = null;
    if (RE2Set !== null) {
      try { set = new RE2Set(sources); } catch { set = null; }
    }
    this.set = set;
  }

  /** False when no set could be built (the members then run one by one). */
  get usable(): boolean {
    return this.set !== null;
  }

  /**
   * False when member `index` cannot match `s` (a subject of BATCH_MIN_SUBJECT bytes or more); true when
   * it may (the caller tests it on its own).
   */
  mayMatch(index: number, s: string): boolean {
    if (this.set === null) return true;
    const slot = slotOf(s);
    if (slot < 0) return true;
    const answers = ringAnswers[slot]!;
    let a = answers[this.id];
    if (a === undefined) {
      a = answers[this.id] = this.scan(ringBytes[slot]!);
    }
    return a === null || (a[index >>> 5]! & (1 << (index & 31))) !== 0;
  }

  private scan(bytes: Buffer): Uint32Array | null {
    let hits: number[];
    try {
      hits = this.set!.match(bytes);
    } catch {
      // RE2 ran out of memory for this set (its DFA budget): the members answer one by one from now on.
      this.set = null;
      return null;
    }
    const a = new Uint32Array((this.size + 31) >>> 5);
    for (let k = 0; k < hits.length; k++) {
      const i = hits[k]!;
      a[i >>> 5]! |= 1 << (i & 31);
    }
    return a;
  }
}
