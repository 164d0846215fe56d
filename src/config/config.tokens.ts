/** Injection token of the validated LongLinkConfig. */
export const LONGLINK_CONFIG = Symbol('LONGLINK_CONFIG');
