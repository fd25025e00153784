/**
 * A rule's value filter: byte sets that a variable's value must meet, BEFORE any transformation, for
 * the rule's operator to have a chance of matching it after the transformations.
 *
 * The operator says which bytes every match must hold (Operator.requiredBytes: one byte of each set);
 * each transformation says which input bytes an output byte can come from (TransformationSpec.preimage).
 * Walking the rule's transformation chain backwards turns "the transformed value holds a byte of S" into
 * "the raw value holds a byte of P". A raw value without any byte of some P cannot match, so the engine
 * skips it without transforming it or calling the operator — for CRS on benign traffic most (rule,
 * value) pairs end here with eight word ANDs against the value's byte bitmap (computed once per value).
 *
 * It is exact with respect to the rule's result: only values that cannot match are skipped, and skipping
 * a non-matching value has no effect in ModSecurity's model (no capture, no MATCHED_VAR, no actions).
 * Not for negated operators (there "cannot match" means the rule matches). With multiMatch the operator
 * also sees every intermediate value; preimages only ever add bytes (P ⊇ S, checked by
 * test/policy/transformations), so the whole chain's P covers every prefix of it.
 */
import type { CompiledOperator } from './rule.js';
import type { TransformationSpec } from './types.js';

function coversEveryByte(p: Uint32Array): boolean {
  for (let i = 0; i < 8; i++) if (p[i] !== 0xffffffff) return false;
  return true;
}

export function ruleValueFilter(op: CompiledOperator | null, transforms: readonly TransformationSpec[]): readonly Uint32Array[] | null {
  if (op === null || op.negated) return null;
  const required = op.op.requiredBytes;
  if (required === undefined || required === null || required.length === 0) return null;
  const out: Uint32Array[] = [];
  for (const set of required) {
    let p: Uint32Array | null = set;
    for (let i = transforms.length - 1; i >= 0 && p !== null; i--) {
      const pre = transforms[i]!.preimage;
      p = pre === undefined ? null : pre(p);
    }
    if (p !== null && !coversEveryByte(p)) out.push(p);
  }
  return out.length === 0 ? null : Object.freeze(out);
}

export { presentBytes, meetsByteSets } from './regex/required-bytes.js';
