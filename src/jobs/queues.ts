import type { DefaultJobOptions } from 'bullmq';

/**
 * Every queue and why it exists. Delivery is at least once: each handler is idempotent, and a job id derived from the
 * idempotency key (an execution id, a report day) is only a first filter, never the guarantee.
 */
export const QUEUES = {
  /** Fills, cancels, rejections and stop triggers for one grid, applied by the engine in a transaction. */
  gridEvents: 'grid-events',
  /** Price updates: the paper exchange matches on them, candles and the latest-price cache are kept from them. */
  prices: 'prices',
  /** Messages for humans, fanned out by the bot role to each destination (chats, the outgoing webhook): retried, never dropped silently. */
  notifications: 'notifications',
  /** Daily reports (node-cron enqueues them at the configured time). */
  reports: 'reports',
  /** Reconciliation with the exchange, on a BullMQ job scheduler. */
  maintenance: 'maintenance',
  /** One job per notification and destination (a chat, a channel, the outgoing webhook), and fill digests. */
  deliveries: 'deliveries',
  /** TradingView alerts, recorded by the webhook (which answers at once) and applied here, in order per symbol. */
  alerts: 'alerts',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 200 },
  // Completed jobs are pruned; failed ones stay visible with their reason.
  removeOnComplete: { count: 2000 },
  removeOnFail: { count: 10_000 },
};

/** Price updates are worth little once stale: fewer retries, and completed ones go at once. */
export const PRICE_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 3,
  backoff: { type: 'fixed', delay: 100 },
  removeOnComplete: true,
  removeOnFail: { count: 1000 },
};

/**
 * The connection options of BullMQ's queues and workers and of the start-up probe, from REDIS_URL:
 * redis://[[user]:password@]host[:port][/db], rediss:// for TLS. The user and password are percent-decoded, so a
 * password holding @ / : or # is written %40 %2F %3A %23. The app's shared client is given the URL itself, and
 * ioredis reads it the same way (test/unit/deploy/redis-connection.test.ts holds the two together).
 */
export function redisConnection(url: string) {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? u.pathname.slice(1) : undefined;
  // Caught here, at start, rather than as a SELECT error in every client once connected.
  if (db !== undefined && !/^\d{1,5}$/.test(db)) {
    throw new Error(`REDIS_URL: the database after the host must be a number such as /0, not /${db}`);
  }
  return {
    // The URL keeps an IPv6 address in brackets; a socket wants it bare.
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 6379),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(db !== undefined ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}
