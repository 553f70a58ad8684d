/**
 * Turns a failure to reach Postgres or Redis into one line that says what to start and how.
 * Returns null for anything else (which is a bug, and keeps its stack in the logs).
 */
export function explainStartupError(
  error: unknown,
  urls: { database: string; redis: string },
): string | null {
  const e = error as { code?: string; message?: string; errors?: { code?: string }[] };
  const code = e.code ?? e.errors?.[0]?.code;
  const text = `${e.message ?? ''}`;
  const db = safeHost(urls.database);
  const redis = safeHost(urls.redis);
  const isRedis = /redis/i.test(text) || text.includes(`:${new URL(urls.redis).port || 6379}`);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH') {
    if (isRedis) {
      return `cannot reach Redis at ${redis} (${code}): start it (redis-server --daemonize yes, or docker compose up -d redis) or set REDIS_URL`;
    }
    return `cannot reach Postgres at ${db} (${code}): start it (pg_ctlcluster <version> main start, or docker compose up -d postgres) or set DATABASE_URL`;
  }
  if (code === '28P01' || code === '28000') {
    return `Postgres at ${db} refused the login (${code}): check the user and password in DATABASE_URL`;
  }
  // The exchange refused the credentials, or the key's check refused the key: the line says what to do.
  if (code === 'BYBIT_AUTH' || code === 'BYBIT_KEY') return text;
  if (code === '3D000')
    return `Postgres at ${db}: the database does not exist and could not be created (${text})`;
  return null;
}

function safeHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || (u.protocol.startsWith('redis') ? 6379 : 5432)}`;
  } catch {
    return 'an invalid URL';
  }
}
