import { createHash } from 'node:crypto';
import type { TransformationSpec } from '../types.js';

/** The 16-byte binary MD5 digest as a byte string (v2 returns raw bytes, not hex). */
export const md5: TransformationSpec = {
  name: 'md5',
  transform: (input) => createHash('md5').update(input, 'latin1').digest().toString('latin1'),
};
