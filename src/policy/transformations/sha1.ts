import { createHash } from 'node:crypto';
import type { TransformationSpec } from '../types.js';

/** The 20-byte binary SHA-1 digest as a byte string (v2 returns raw bytes, not hex). */
export const sha1: TransformationSpec = {
  name: 'sha1',
  transform: (input) => createHash('sha1').update(input, 'latin1').digest().toString('latin1'),
};
