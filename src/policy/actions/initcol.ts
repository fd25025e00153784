/** initcol:ip=%{remote_addr} — opens a persistent collection (in-memory, bounded, see collection-store.ts). */
import type { ActionSpec } from './action-spec.js';

export const action: ActionSpec = {
  name: 'initcol',
  kind: 'nondisruptive',
  param: 'required',
  compile(param, draft, ctx) {
    const eq = param.indexOf('=');
    if (eq <= 0) throw new Error(`initcol: "${param}" is not collection=key`);
    const collection = param.slice(0, eq).trim().toUpperCase();
    if (!['IP', 'GLOBAL', 'RESOURCE', 'SESSION', 'USER'].includes(collection)) {
      throw new Error(`initcol: unsupported collection "${param.slice(0, eq)}"`);
    }
    const key = ctx.compileMacro(param.slice(eq + 1).trim());
    draft.actions.push({ name: 'initcol', run: (tx) => tx.initCollection(collection, key.expand(tx)) });
  },
};
