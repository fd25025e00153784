/**
 * Test helper: Perl as a PCRE oracle. Perl's regex dialect is what PCRE imitates, and on byte strings
 * (not UTF-8 flagged) it folds case and classifies \w \s \d on ASCII only — like PCRE in ModSecurity v2.
 * Differences we avoid by construction: `$` (Perl matches before a final newline; v2 sets
 * PCRE_DOLLAR_ENDONLY), so subjects ending in "\n" are not given to the oracle.
 */
import { spawnSync } from 'node:child_process';

export { perlAvailable } from '../prerequisites.js';

const SCRIPT = String.raw`
binmode STDIN; binmode STDOUT;
my @lines = <STDIN>; chomp @lines;
my $np = shift @lines; my @pats = splice(@lines, 0, $np); my @subj = map { pack('H*', $_) } @lines;
for my $ph (@pats) {
  my $p = pack('H*', $ph);
  my $re = eval { qr/$p/s };
  if (!defined $re) { print "E\n"; next; }
  print join('', map { $_ =~ $re ? '1' : '0' } @subj), "\n";
}`;

/** For each pattern: a string of '0'/'1' per subject, or 'E' if Perl rejects the pattern. */
export function perlMatches(patterns: readonly string[], subjects: readonly string[]): string[] {
  const hex = (s: string, enc: BufferEncoding) => Buffer.from(s, enc).toString('hex');
  const input = [String(patterns.length), ...patterns.map((p) => hex(p, 'utf8')), ...subjects.map((s) => hex(s, 'latin1'))].join('\n') + '\n';
  const r = spawnSync('perl', ['-e', SCRIPT], { input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`perl failed: ${r.stderr.toString()}`);
  return r.stdout.toString('latin1').split('\n').slice(0, patterns.length);
}
