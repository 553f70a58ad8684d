import type { ConnectionOptions, DefaultJobOptions } from 'bullmq';

/**
 * Every queue and why it exists. Delivery is at least once: each handler is idempotent, and a job id derived from the
 * idempotency key (an execution id, a report day) is only a first filter, never the guarantee.
 */
export const QUEUES = {
  /** Fills, cancels, rejections and stop triggers for one grid, applied by the engine in a transaction. */
  gridEvents: 'grid-events',
  /** Price updates: the paper exchange matches on them, candles and the latest-price cache are kept from them. */
  prices: 'prices',
  /** Messages for humans (console now, chat later): retried, never dropped silently. */
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

export function redisConnection(url: string): ConnectionOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}
