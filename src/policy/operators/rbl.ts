/**
 * @rbl — ModSecurity v2 resolves a DNS block-list name. The policy engine does no network I/O, so the
 * lookup is never made and the operator does not match (what v2 does when the lookup fails). CRS 3.3.4's
 * rule 910140 (httpbl.org) loads with it and only runs when tx.block_*_ip / SecHttpBlKey are configured.
 */
import type { OperatorSpec } from '../types.js';

export const rbl: OperatorSpec = {
  name: 'rbl',
  create(param) {
    if (param.trim() === '') throw new Error("missing parameter for operator 'rbl'");
    return { evaluate: () => false };
  },
};
