import type { TransformationSpec } from '../types.js';
import { rememberedDigest } from './remembered-digest.js';

/** The 20-byte binary SHA-1 digest as a byte string (v2 returns raw bytes, not hex). */
export const sha1: TransformationSpec = {
  name: 'sha1',
  transform: rememberedDigest('sha1'),
};
