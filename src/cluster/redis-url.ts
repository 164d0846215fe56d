/**
 * REDIS_URL as the cluster takes it: `redis://[user:pass@]host[:port][/db]`
 * or `rediss://` (TLS). Checked at start-up so that a typo stops the process
 * with the key named, instead of a node that retries a bad address forever.
 */
export interface RedisTarget {
  url: string;
  host: string;
  port: number;
  tls: boolean;
  db: number;
}

/** The reason `url` is not a usable REDIS_URL, or undefined when it is. */
export function redisUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL (expected redis://host:port or rediss://host:port)';
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    return `has scheme '${parsed.protocol.replace(/:$/, '')}' (expected redis or rediss)`;
  }
  if (!parsed.hostname) return 'names no host';
  if (parsed.port !== '' && !(Number(parsed.port) >= 1 && Number(parsed.port) <= 65535)) return 'has a bad port';
  const path = parsed.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,2}$/.test(path)) return `has database '${path}' (expected a number 0-99 after the slash)`;
  return undefined;
}

export function parseRedisUrl(url: string): RedisTarget {
  const problem = redisUrlProblem(url);
  if (problem) throw new Error(`REDIS_URL ${problem}`);
  const parsed = new URL(url);
  const path = parsed.pathname.replace(/^\//, '');
  return {
    url,
    host: parsed.hostname,
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    tls: parsed.protocol === 'rediss:',
    db: path === '' ? 0 : Number(path),
  };
}

/** The URL with any password replaced, for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}
