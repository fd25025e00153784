/** Rule-id ranges as SecRuleRemoveById and ctl:ruleRemoveById accept them: "942100" or "942100-942199". */
export interface IdRange {
  readonly from: number;
  readonly to: number;
}

export function parseIdRange(text: string): IdRange {
  const t = text.trim().replace(/^["']|["']$/g, '');
  const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(t);
  if (!m) throw new Error(`"${text}" is not a rule id or id range`);
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (to < from) throw new Error(`rule id range "${text}" is reversed`);
  return { from, to };
}

export function inRange(id: number, r: IdRange): boolean {
  return id >= r.from && id <= r.to;
}
