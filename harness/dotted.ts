/** A value inside parsed JSON or YAML by a dotted path: "firmware", "documentation.privacyNotice", "items.0.v". */
export function dottedValue(root: unknown, dotted: string): unknown {
  let cur: unknown = root;
  for (const key of dotted.split('.').filter(Boolean)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}
