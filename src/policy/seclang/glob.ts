/**
 * Include path expansion with shell-style wildcards (`*`, `?`, `[…]`) in any path segment, the way
 * Apache's Include resolves `rules/*.conf`. Results are sorted so load order is deterministic.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, isAbsolute, sep } from 'node:path';

const WILD = /[*?[]/;

export function expandIncludePath(pattern: string): string[] {
  if (!WILD.test(pattern)) return [pattern];
  const absolute = isAbsolute(pattern);
  const segments = pattern.split(sep).filter((s, i) => s !== '' || i === 0);
  let bases = [absolute ? sep : '.'];
  for (let i = absolute ? 1 : 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const next: string[] = [];
    if (!WILD.test(seg)) {
      for (const b of bases) next.push(join(b, seg));
    } else {
      const re = segmentRegex(seg);
      for (const b of bases) {
        let names: string[];
        try {
          names = readdirSync(b);
        } catch {
          continue;
        }
        for (const name of names.sort()) if (re.test(name) && !name.startsWith('.')) next.push(join(b, name));
      }
    }
    bases = next;
  }
  return bases.filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

function segmentRegex(seg: string): RegExp {
  let src = '^';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') src += '[^/]*';
    else if (c === '?') src += '[^/]';
    else if (c === '[') {
      const close = seg.indexOf(']', i + 1);
      if (close < 0) src += '\\[';
      else {
        src += '[' + seg.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
        i = close;
      }
    } else src += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(src + '$');
}
