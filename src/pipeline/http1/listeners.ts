/**
 * The listeners of one event on a request or response object. The front end's objects have a fixed,
 * small set of events (data/end/error, close/drain) with one or two listeners each; a full EventEmitter
 * per object would cost an events dictionary and its bookkeeping per request.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Listener = (arg?: any) => void;

export class Listeners {
  private fns: Listener[] = [];
  private once: boolean[] = [];

  add(fn: Listener, once: boolean): void {
    this.fns.push(fn);
    this.once.push(once);
  }

  remove(fn: Listener): void {
    const i = this.fns.lastIndexOf(fn);
    if (i < 0) return;
    this.fns.splice(i, 1);
    this.once.splice(i, 1);
  }

  get size(): number {
    return this.fns.length;
  }

  emit(arg?: unknown): void {
    const n = this.fns.length;
    if (n === 0) return;
    if (n === 1) {
      const fn = this.fns[0]!;
      if (this.once[0]) {
        this.fns = [];
        this.once = [];
      }
      fn(arg);
      return;
    }
    // Listeners added or removed while emitting take effect from the next emit (as with EventEmitter).
    const fns = this.fns.slice();
    const once = this.once;
    if (once.includes(true)) {
      this.fns = fns.filter((_, i) => !once[i]);
      this.once = this.fns.map(() => false);
    }
    for (const fn of fns) fn(arg);
  }
}
