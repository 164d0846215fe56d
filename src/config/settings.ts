import type { z } from 'zod';
import { ConfigValidationError, configSchema, parseConfig } from './config.schema';

/** A configuration key: the names of `.env.example` (`TCP_PORT`, `HEARTBEAT_MS`, …). */
export type LongLinkSettingKey = Extract<keyof z.input<typeof configSchema>, string>;

/**
 * Settings given in code, by the environment's own keys. Each key's meaning
 * and default are in `.env.example`, the README's Configuration table and on
 * the `LongLinkConfig` field that names it. Keys by name, not a nested
 * object, so that what is derived from other keys (SERVER_PING_MS from
 * HEARTBEAT_MS, HTTP_HOST from ADMIN_TOKEN, SHUTDOWN_DRAIN_MS from NODE_ENV)
 * is derived from the values given here.
 */
export type LongLinkSettings = Partial<Record<LongLinkSettingKey, string | number | boolean>>;

const KEYS = new Set(Object.keys(configSchema.shape));

/**
 * The configuration from `settings` over `env`: a key left out (or
 * undefined) is read from `env` as the CLI reads it; every value is
 * validated exactly as the environment's, and a bad or unknown one throws
 * ConfigValidationError naming the key.
 */
export function resolveConfig(settings: LongLinkSettings = {}, env: Record<string, string | undefined> = process.env): ReturnType<typeof parseConfig> {
  const unknown = Object.keys(settings).filter((key) => !KEYS.has(key));
  if (unknown.length > 0) throw new ConfigValidationError(unknown.map((key) => `${key}: not a configuration key (see .env.example)`));
  const merged: Record<string, string | undefined> = { ...env };
  for (const [key, value] of Object.entries(settings)) if (value !== undefined) merged[key] = String(value);
  return parseConfig(merged);
}
