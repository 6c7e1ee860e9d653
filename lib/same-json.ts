/**
 * Whether `a` and `b` are the same JSON whatever the order of their keys: what comparing their
 * JSON.stringify with sorted keys says (undefined properties absent, undefined array items null),
 * without writing either out. The operator compares each status it would write so, once per
 * reconcile, and a Workflow's holds up to 100 runs.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  if (!isRecord(a) || !isRecord(b) || Array.isArray(b)) return false;
  let keys = 0;
  for (const k of Object.keys(a)) {
    if (a[k] === undefined) continue;
    keys++;
    if (!sameJson(a[k], b[k])) return false;
  }
  for (const k of Object.keys(b)) if (b[k] !== undefined) keys--;
  return keys === 0;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
