/**
 * Header-name comparisons ignoring ASCII case, without a lower-cased copy of the name (HTTP field names
 * are case-insensitive; the per-request header loops compare every field this way).
 */

/** `name` (any case) equals `lower` (lower-case), ignoring ASCII case. */
export function equalsLowerCase(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  if (name === lower) return true;
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** `name` (any case) starts with `lower` (lower-case), ignoring ASCII case. */
export function startsLowerCase(name: string, lower: string): boolean {
  if (name.length < lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}
