/** clientId: 1-128 chars of [A-Za-z0-9._:@-] (docs/PROTOCOL.md §2). The one definition of the rule. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;

/** The rule in words, for every error message that enforces it. */
export const CLIENT_ID_RULE = '1-128 characters of [A-Za-z0-9._:@-]';

export function isClientId(value: unknown): value is string {
  return typeof value === 'string' && CLIENT_ID_PATTERN.test(value);
}
