import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getTransformation } from '../../../src/policy/transformations/index.js';

/** One row: input and expected output, both byte strings (latin1). */
export type Row = readonly [input: string, expected: string, why?: string];

/** UTF-8 text as the byte string the pipeline would produce from the wire. */
export function utf8(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** Every byte 0x00..0xFF once. */
export const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1');

/** Runs a table of rows against the named transformation, one test per row. */
export function table(name: string, rows: readonly Row[]): void {
  const spec = getTransformation(name);
  for (const [input, expected, why] of rows) {
    test(`${name}(${JSON.stringify(input).slice(0, 60)})${why ? ` — ${why}` : ''}`, () => {
      assert.ok(spec, `transformation ${name} is registered`);
      assert.equal(spec.transform(input), expected);
    });
  }
}
