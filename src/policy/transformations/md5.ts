import type { TransformationSpec } from '../types.js';
import { rememberedDigest } from './remembered-digest.js';

/** The 16-byte binary MD5 digest as a byte string (v2 returns raw bytes, not hex). */
export const md5: TransformationSpec = {
  name: 'md5',
  transform: rememberedDigest('md5'),
};
