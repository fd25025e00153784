// The per-request header loops decide hop-by-hop names without lower-casing them (hop-by-hop.ts
// isRequestHopByHopName / isResponseHopByHopName, http1/ascii-case.ts equalsLowerCase): the answers must be those of the
// lower-case Set lookups they replace, for every case and for names that merely look alike.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isRequestHopByHop, isRequestHopByHopName, isResponseHopByHop,
  isResponseHopByHopName } from '../../src/pipeline/hop-by-hop.js';
import { equalsLowerCase } from '../../src/pipeline/http1/ascii-case.js';

const NAMES = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te',
  'trailer', 'transfer-encoding', 'upgrade', 'expect', 'proxy', 'proxy-x', 'proxy-', 'proxyx', 'proxies', 'prox',
  'host', 'content-length', 'content-type', 'x-forwarded-for', 'tf', 'ta', 'trailers', 'upgrades', 'expects',
  'connectioN', 'keep_alive', 'keep-alivf', 'transfer-encodinf', 'cookie', 'set-cookie', 'date', 'server', 'x',
  'sec-fetch-user', 'accept-language', 'user-agent', 'referer', 'etag', 'a-very-long-header-name-that-is-unusual'];

/** Every spelling of `name` with letters upper- or lower-case (up to 2^10 of them). */
function casings(name: string): string[] {
  const letters = [...name].map((c, i) => (/[a-z]/.test(c) ? i : -1)).filter((i) => i >= 0).slice(0, 10);
  const out: string[] = [];
  for (let mask = 0; mask < 1 << letters.length; mask++) {
    const chars = [...name];
    letters.forEach((at, bit) => {
      if (mask & (1 << bit)) chars[at] = chars[at]!.toUpperCase();
    });
    out.push(chars.join(''));
  }
  return out;
}

describe('hop-by-hop names in any case', () => {
  test('isRequestHopByHopName / isResponseHopByHopName answer as the lower-case sets do', () => {
    let checked = 0;
    let hopByHop = 0;
    for (const name of NAMES) {
      for (const spelled of casings(name)) {
        const lower = spelled.toLowerCase();
        assert.equal(isRequestHopByHopName(spelled), isRequestHopByHop(lower), `request ${spelled}`);
        assert.equal(isResponseHopByHopName(spelled), isResponseHopByHop(lower), `response ${spelled}`);
        if (isRequestHopByHop(lower)) hopByHop++;
        checked++;
      }
    }
    assert.ok(checked > 1000 && hopByHop > 100, `${checked} spellings, ${hopByHop} hop-by-hop`);
    // Expect is a request hop only (the front end answered 100-continue itself).
    assert.equal(isRequestHopByHopName('Expect'), true);
    assert.equal(isResponseHopByHopName('Expect'), false);
  });

  test('equalsLowerCase is name.toLowerCase() === lower for ASCII, and never matches across non-letters', () => {
    for (const name of NAMES) {
      for (const other of NAMES.filter((n) => n === n.toLowerCase())) {
        for (const spelled of casings(name).slice(0, 8)) {
          assert.equal(equalsLowerCase(spelled, other), spelled.toLowerCase() === other, `${spelled} / ${other}`);
        }
      }
    }
    // Characters whose code differs from a letter's by 32 are not letters of the other case.
    assert.equal(equalsLowerCase('@', '`'), false);
    assert.equal(equalsLowerCase('[a]', '{a}'), false);
    assert.equal(equalsLowerCase('\u00c0', '\u00e0'), false, 'only ASCII letters are folded');
  });
});
