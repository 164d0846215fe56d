/**
 * Bounds on JSON values a peer hands us (frames, reported state, HTTP
 * bodies). Everything here is iterative on purpose: the values it guards are
 * exactly the ones that make recursive code (structuredClone, JSON.stringify,
 * class-transformer) overflow the stack, so the guard itself must not recurse.
 */

/** Why a value was refused, with the measured figure. */
export type JsonBoundsProblem = { kind: 'depth'; limit: number } | { kind: 'bytes'; bytes: number; limit: number };

/**
 * Nesting depth of `value`: 0 for a scalar, 1 for `{}` or `[1]`, 2 for
 * `{"a":[1]}`. Stops as soon as the depth passes `limit` and returns
 * `limit + 1` then, so a 30,000-deep array costs `limit` steps, not 30,000.
 */
export function jsonDepth(value: unknown, limit = Number.MAX_SAFE_INTEGER): number {
  if (value === null || typeof value !== 'object') return 0;
  // Explicit stack of [container, depth]; no recursion.
  const stack: Array<[object, number]> = [[value, 1]];
  let max = 1;
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [object, number];
    if (depth > max) {
      max = depth;
      if (max > limit) return limit + 1;
    }
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const child: unknown = node[i];
        if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
      }
    } else {
      for (const key in node) {
        const child = (node as Record<string, unknown>)[key];
        if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
      }
    }
  }
  return max;
}

/** Is `value` nested at most `maxDepth` deep? (The cheap test the hot path asks.) */
export function withinDepth(value: unknown, maxDepth: number): boolean {
  return jsonDepth(value, maxDepth) <= maxDepth;
}

/**
 * Checks depth first (so that measuring the size with JSON.stringify is then
 * safe), then the UTF-8 size of its JSON. undefined when within both bounds.
 */
export function checkJsonBounds(value: unknown, maxDepth: number, maxBytes: number): JsonBoundsProblem | undefined {
  if (!withinDepth(value, maxDepth)) return { kind: 'depth', limit: maxDepth };
  const json = JSON.stringify(value);
  // A string's UTF-8 size is at most 3 bytes per UTF-16 unit: skip the exact count when that is already small enough.
  if (json === undefined || json.length * 3 <= maxBytes) return undefined;
  const bytes = Buffer.byteLength(json);
  return bytes > maxBytes ? { kind: 'bytes', bytes, limit: maxBytes } : undefined;
}

/** `HEART fields nest deeper than MAX_JSON_DEPTH (32)` / `… of 60000 bytes exceed MAX_REPORTED_BYTES (4096)`. */
export function describeJsonProblem(what: string, problem: JsonBoundsProblem, depthKey: string, bytesKey: string): string {
  return problem.kind === 'depth'
    ? `${what} nest deeper than ${depthKey} (${problem.limit})`
    : `${what} of ${problem.bytes} bytes exceed ${bytesKey} (${problem.limit})`;
}
