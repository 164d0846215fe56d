import { withinDepth } from '../common/json-bounds';
import type { ClientRecord } from './presence.types';

/**
 * Deeper than this, a stored value is shown as a placeholder. Far above
 * MAX_JSON_DEPTH (which new frames are held to), far below where
 * structuredClone and JSON.stringify overflow the stack (~5,000 levels).
 */
export const DETACH_MAX_DEPTH = 1000;

/**
 * A detached copy of a record for a caller outside (the admin API). One
 * record with a poisoned field (from before the bounds, or from a store
 * another node wrote) must not take a whole page or the record itself down
 * with a RangeError: the fields a peer fills are checked, iteratively, and a
 * too-deep one is replaced by a placeholder that says why.
 */
export function detachRecord(record: ClientRecord): ClientRecord {
  const meta = tame(record.meta);
  const reported = tame(record.reported);
  if (meta === record.meta && reported === record.reported) return structuredClone(record);
  return structuredClone({ ...record, meta, reported });
}

function tame(value: Record<string, unknown>): Record<string, unknown> {
  return withinDepth(value, DETACH_MAX_DEPTH) ? value : { $omitted: `nested deeper than ${DETACH_MAX_DEPTH} levels` };
}
