import { z } from 'zod';

/**
 * A whole number from an environment string, within [min, max]; shared by
 * every part of the config schema so they reject the same typos alike.
 */
export const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    // Number() alone reads ' ' as 0, '0x10' as 16 and '1e3' as 1000: a typo
    // would become a port or a timeout. Only plain decimal integers are taken.
    .regex(/^\s*-?\d+\s*$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be >= ${min}` })
        .max(max, { error: `must be <= ${max}` }),
    );

/** setTimeout's ceiling: a larger delay fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;
