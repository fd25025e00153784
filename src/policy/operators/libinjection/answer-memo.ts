/**
 * A bounded memo of recent answers of a pure function of a short value. libinjection's answer depends on
 * the value alone, and the values it sees repeat across requests (a browser's User-Agent, Referer and
 * cookies are the same on every request of a session): a hit costs one Map lookup instead of a
 * tokenizer run (≈ 3–15 µs). Long values (which rarely repeat) are not remembered, and the memo is
 * cleared when full, so it never pins more than MAX_ENTRIES × MAX_VALUE bytes.
 */
const MAX_VALUE = 256;
const MAX_ENTRIES = 2048;

export class AnswerMemo<T> {
  private readonly answers = new Map<string, T>();

  constructor(private readonly compute: (value: string) => T) {}

  get(value: string): T {
    if (value.length > MAX_VALUE) return this.compute(value);
    let a = this.answers.get(value);
    if (a === undefined && !this.answers.has(value)) {
      a = this.compute(value);
      if (this.answers.size >= MAX_ENTRIES) this.answers.clear();
      this.answers.set(value, a);
    }
    return a as T;
  }
}
