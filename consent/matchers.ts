/**
 * The functions the Casbin matcher calls (model.conf). Kept tiny and allocation-free on
 * the hot path: they run for every policy line of the patient on every decision.
 */
export function principalMatch(principals: string, sub: string): boolean {
  // principals is "|"-joined and every entry starts with a kind prefix, so a substring
  // test bounded by separators is exact.
  if (principals === sub) return true;
  const i = principals.indexOf(sub);
  if (i < 0) return false;
  const end = i + sub.length;
  return (i === 0 || principals[i - 1] === '|') && (end === principals.length || principals[end] === '|');
}

export function listMatch(value: string, list: string): boolean {
  if (list === '*' || list === value) return true;
  return principalMatch(list, value);
}

export function within(now: string, from: string, until: string): boolean {
  return (from === '-' || now >= from) && (until === '-' || now < until);
}
