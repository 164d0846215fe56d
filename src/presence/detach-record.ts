import { withinDepth } from '../common/json-bounds';
import type { ClientRecord } from './presence.types';

/**
 * Deeper than this, a stored value is shown as a placeholder. Far above
 * MAX_JSON_DEPTH (which new frames are held to), far below where a
 * recursive copy or JSON.stringify overflows the stack (~5,000 levels).
 */
export const DETACH_MAX_DEPTH = 1000;

/**
 * A detached copy of a record for a caller outside (the admin API). One
 * record with a poisoned field (from before the bounds, or from a store
 * another node wrote) must not take a whole page or the record itself down
 * with a RangeError: the fields a peer fills are checked, iteratively, and a
 * too-deep one is replaced by a placeholder that says why.
 *
 * Copied by hand, not with structuredClone: records are plain JSON values,
 * and for them this is ~6x cheaper (structuredClone of 100 records was the
 * largest single block of a `?q=` page).
 */
export function detachRecord(record: ClientRecord): ClientRecord {
  const meta = tame(record.meta);
  const reported = tame(record.reported);
  const copy = copyJson(record) as ClientRecord;
  if (meta !== record.meta) copy.meta = meta;
  if (reported !== record.reported) copy.reported = reported;
  return copy;
}

function tame(value: Record<string, unknown>): Record<string, unknown> {
  return withinDepth(value, DETACH_MAX_DEPTH) ? value : { $omitted: `nested deeper than ${DETACH_MAX_DEPTH} levels` };
}

/** Deep copy of a JSON value whose depth is known to be at most ~DETACH_MAX_DEPTH (the recursion is bounded by it). */
function copyJson(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  // A too-deep meta or reported is not walked: it is replaced after the copy.
  if (depth > DETACH_MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyJson(value[i], depth + 1);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const key in value) out[key] = copyJson((value as Record<string, unknown>)[key], depth + 1);
  return out;
}
