import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOperator, RecordingTx } from './operator-harness.js';
import { luhnValid } from '../../../src/policy/operators/verify-cc.js';
import { ssnValid } from '../../../src/policy/operators/verify-ssn.js';
import { cpfValid } from '../../../src/policy/operators/verify-cpf.js';

test('Luhn, SSN and CPF checks', () => {
  assert.equal(luhnValid('4111111111111111'), true);
  assert.equal(luhnValid('4111-1111-1111-1111'), true);
  assert.equal(luhnValid('4111111111111112'), false);
  assert.equal(luhnValid('79927398713'), true);
  assert.equal(luhnValid('no digits'), false);
  assert.equal(ssnValid('078-05-1120'), true);
  assert.equal(ssnValid('666-12-3456'), false, 'area 666');
  assert.equal(ssnValid('740-12-3456'), false, 'area ≥ 740');
  assert.equal(ssnValid('000-12-3456'), false, 'zero area');
  assert.equal(ssnValid('123-00-4567'), false, 'zero group');
  assert.equal(ssnValid('123-45-0000'), false, 'zero serial');
  assert.equal(ssnValid('123456789'), false, 'ascending run');
  assert.equal(ssnValid('111-11-1111'), false, 'all equal');
  assert.equal(ssnValid('12-345-678'), false, 'eight digits');
  assert.equal(cpfValid('529.982.247-25'), true);
  assert.equal(cpfValid('529.982.247-26'), false);
  assert.equal(cpfValid('111.111.111-11'), false, 'dummy number');
  assert.equal(cpfValid('5299822472'), false, 'ten digits');
});

test('@verifyCC finds a Luhn-valid candidate after invalid ones, and captures it', () => {
  const op = createOperator('verifyCC', '(?:^|[^\\d])(\\d{4}\\-?\\d{4}\\-?\\d{2}\\-?\\d{2}\\-?\\d{1,4})(?:[^\\d]|$)');
  const otx = new RecordingTx({}, true);
  assert.equal(op.evaluate(otx, 'order 4111111111111112 card 4111-1111-1111-1111 end'), true);
  assert.equal(otx.captures.get(0), ' 4111-1111-1111-1111 ');
  assert.equal(op.evaluate(new RecordingTx(), 'only 4111111111111112 here'), false);
  assert.equal(op.evaluate(new RecordingTx(), ''), false);
  assert.equal(op.evaluate(new RecordingTx(), 'x'.repeat(1 << 20)), false);
  assert.throws(() => createOperator('verifyCC', ''), /missing parameter/);
  assert.throws(() => createOperator('verifyCC', '(unclosed'), /missing \)/);
});

test('@verifySSN and @verifyCPF search with their checks', () => {
  const ssn = createOperator('verifySSN', '\\d{3}-\\d{2}-\\d{4}');
  assert.equal(ssn.evaluate(new RecordingTx(), 'ssn: 123-45-6789? no: 078-05-1120'), true);
  assert.equal(ssn.evaluate(new RecordingTx(), 'ssn: 666-45-6789'), false);
  const cpf = createOperator('verifyCPF', '\\d{3}\\.\\d{3}\\.\\d{3}-\\d{2}');
  assert.equal(cpf.evaluate(new RecordingTx(), 'cpf 111.111.111-11 or 529.982.247-25'), true);
  assert.equal(cpf.evaluate(new RecordingTx(), 'cpf 529.982.247-26'), false);
});
