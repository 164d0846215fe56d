import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets without leaking, through timing, how much of one was
 * right. Both are hashed first, so the comparison is over equal lengths
 * whatever was sent (timingSafeEqual throws on unequal lengths, and the
 * length itself would leak). The one token compare of the gateway: client
 * tokens and the admin token both go through it.
 */
export function tokensEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
