import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { Config } from '../config.js';
import { openDatabase } from '../db/data-source.js';
import {
  DEFAULT_JOB_OPTIONS,
  PRICE_JOB_OPTIONS,
  QUEUES,
  type QueueName,
  redisConnection,
} from '../jobs/queues.js';

/** The process's three connections: Postgres (the truth), Redis (the work and the latest figures), the queues. */
export interface Connections {
  readonly ds: DataSource;
  readonly redis: Redis;
  readonly queues: Record<QueueName, Queue>;
  close(): Promise<void>;
}

/** Connects to Postgres (creating the database and migrating) and Redis, and opens every queue. */
export async function openConnections(config: Config): Promise<Connections> {
  const ds = await openDatabase(config.DATABASE_URL, config.DB_POOL_SIZE);
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  const connection = redisConnection(config.REDIS_URL);
  const queues = Object.fromEntries(
    Object.values(QUEUES).map((name) => [
      name,
      new Queue(name, {
        connection,
        prefix: config.QUEUE_PREFIX,
        defaultJobOptions: name === QUEUES.prices ? PRICE_JOB_OPTIONS : DEFAULT_JOB_OPTIONS,
      }),
    ]),
  ) as Record<QueueName, Queue>;
  return {
    ds,
    redis,
    queues,
    async close() {
      await Promise.allSettled(Object.values(queues).map((q) => q.close()));
      await redis.quit().catch(() => undefined);
      await ds.destroy().catch(() => undefined);
    },
  };
}

/**
 * Redis is probed once up front, with BullMQ's connection options, so an unreachable one, or one that refuses the
 * password in REDIS_URL, gives a clear line instead of endless reconnect attempts.
 */
export async function probeRedis(url: string): Promise<void> {
  const options = redisConnection(url);
  const probe = new Redis({
    ...options,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    connectTimeout: 3000,
  });
  // ioredis rejects connect() with a bare "Connection is closed." and emits the reason (refused, WRONGPASS) first.
  let reason: (Error & { code?: string }) | undefined;
  probe.on('error', (e: Error) => {
    reason ??= e;
  });
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    const error = (reason ?? e) as Error & { code?: string };
    const where = `Redis at ${options.host}:${options.port}`;
    const reply = error.message.replace(/\.$/, '');
    if (/^(WRONGPASS|NOAUTH|ERR invalid password)\b/.test(reply)) {
      const line = reply.startsWith('NOAUTH')
        ? `${where} asks for a password (${reply}): put it in REDIS_URL as redis://:PASSWORD@host:port`
        : `${where} refused the login (${reply}): check the user and password in REDIS_URL`;
      throw Object.assign(new Error(line), { code: 'REDIS_AUTH' });
    }
    throw Object.assign(new Error(`redis: ${error.message}`), { code: error.code ?? 'ECONNREFUSED' });
  } finally {
    probe.disconnect();
  }
}
