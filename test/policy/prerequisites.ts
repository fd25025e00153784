/**
 * Tests that need something from the machine (Perl, Debian's modsecurity-crs, the CRS regression tests).
 * Locally a missing prerequisite skips the test with the reason. In CI (process.env.CI set) it FAILS:
 * CI installs all of them (scripts/setup.sh: modsecurity-crs; perl is in Debian; the CRS tests are at
 * ../shared/crs-tests/v3.3.4 from the repository root), so a skip there would hide a broken set-up.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The CRS regression tests (ftw YAML); PORTCULLIS_CRS_TESTS overrides. */
export const CRS_TESTS_DIR = process.env.PORTCULLIS_CRS_TESTS ?? resolve(REPO_ROOT, '../shared/crs-tests/v3.3.4');

let perl: boolean | undefined;
export function perlAvailable(): boolean {
  perl ??= spawnSync('perl', ['-e', '1']).status === 0;
  return perl;
}

/** name → available. */
export type Prerequisites = Readonly<Record<string, boolean>>;

function missing(needs: Prerequisites): string[] {
  return Object.entries(needs).filter(([, ok]) => !ok).map(([name]) => name);
}

/**
 * `test(name, fn)` that needs `needs`: runs when all are there; otherwise skipped with the reason, or,
 * in CI, a failing test that names what is missing.
 */
export function testNeeding(name: string, needs: Prerequisites, fn: (t: TestContext) => void | Promise<void>): void {
  const absent = missing(needs);
  if (absent.length === 0) {
    test(name, fn);
  } else if (process.env.CI) {
    test(name, () => assert.fail(`CI must provide ${absent.join(', ')} (see scripts/setup.sh); this test does not skip in CI`));
  } else {
    test(name, { skip: `needs ${absent.join(', ')}` }, fn);
  }
}

export const crsTestsAvailable = (): boolean => existsSync(CRS_TESTS_DIR);
