import { DelayedError, type Job, type Queue, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Notification } from '../app/ports/core.js';
import {
  DeliveryAbandoned,
  type DeliveryJob,
  DeliveryPostponed,
  type DeliveryQueue,
  type DigestBuffer,
  type FailedDelivery,
} from '../app/ports/notifications.js';
import { NotificationPayload } from './payloads.js';

/** BullMQ keeps this many failed jobs per queue (DEFAULT_JOB_OPTIONS.removeOnFail): all of them are looked at. */
const MAX_FAILED = 10_000;

const DeliveryPayload = z.object({
  destination: z.string(),
  notification: NotificationPayload.optional(),
  /** A digest: the fills drained from the destination's buffer, kept on the job so a retry sends the same ones. */
  digest: z.array(NotificationPayload).optional(),
});

/** The deliveries queue: one job per notification and destination, and one digest job per destination and window. */
export class BullDeliveryQueue implements DeliveryQueue {
  /** `tag`: the database's, as for the notifications (src/jobs/bus.ts). */
  constructor(
    private readonly queue: Queue,
    private readonly tag = '',
  ) {}

  async deliver(destinationId: string, n: Notification): Promise<void> {
    await this.queue.add(
      'deliver',
      { destination: destinationId, notification: n },
      { jobId: `dl-${this.tag ? `${this.tag}-` : ''}${destinationId}-${n.key}` },
    );
  }

  async digest(destinationId: string, window: number, delayMs: number): Promise<void> {
    await this.queue.add(
      'digest',
      { destination: destinationId },
      { jobId: `dg-${destinationId}-${window}`, delay: delayMs },
    );
  }

  async failed(): Promise<FailedDelivery[]> {
    return (await this.queue.getFailed(0, MAX_FAILED - 1)).map((job) => {
      const key = (job.data?.notification as { key?: unknown } | undefined)?.key;
      return {
        id: String(job.id),
        name: job.name,
        destination: typeof job.data?.destination === 'string' ? job.data.destination : null,
        notificationKey: typeof key === 'string' ? key : null,
        retry: async () => {
          await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        },
      };
    });
  }
}

/**
 * Fills waiting for a destination's digest: a Redis list per destination. Drained in one MULTI (read and delete), so
 * two digest jobs never send the same fill.
 */
export class RedisDigestBuffer implements DigestBuffer {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(destinationId: string): string {
    return `${this.prefix}:digest:${destinationId}`;
  }

  async push(destinationId: string, n: Notification): Promise<void> {
    await this.redis.rpush(this.key(destinationId), JSON.stringify(n));
  }

  async drain(destinationId: string): Promise<Notification[]> {
    const key = this.key(destinationId);
    const [[, raw]] = (await this.redis.multi().lrange(key, 0, -1).del(key).exec()) as [[unknown, string[]]];
    const seen = new Set<string>();
    return raw
      .map((r) => NotificationPayload.parse(JSON.parse(r)))
      .filter((n) => !seen.has(n.key) && seen.add(n.key)) as Notification[];
  }

  async waiting(destinationId: string): Promise<boolean> {
    return (await this.redis.llen(this.key(destinationId))) > 0;
  }
}

/**
 * The deliveries queue's handler: a job handed to the router as the app's DeliveryJob, and the router's two outcomes
 * that are not plain success or failure turned into BullMQ's (a postponed job is moved back to delayed, which BullMQ
 * must hear as DelayedError; one abandoned fails for good, without its remaining attempts).
 */
export function deliveryHandler(router: { deliver(job: DeliveryJob): Promise<void> }) {
  return async (job: Job, token?: string): Promise<void> => {
    const data = DeliveryPayload.parse(job.data);
    const delivery: DeliveryJob = {
      id: String(job.id),
      name: job.name === 'digest' ? 'digest' : 'deliver',
      destination: data.destination,
      ...(data.notification ? { notification: data.notification as Notification } : {}),
      ...(data.digest ? { digest: data.digest as Notification[] } : {}),
      attemptsMade: job.attemptsMade,
      attempts: job.opts.attempts ?? 1,
      keepDigest: async (digest) => {
        await job.updateData({ ...data, digest });
      },
      postpone: async (untilMs) => {
        if (!token) return false;
        await job.moveToDelayed(untilMs, token);
        return true;
      },
    };
    try {
      await router.deliver(delivery);
    } catch (e) {
      if (e instanceof DeliveryPostponed) throw new DelayedError();
      if (e instanceof DeliveryAbandoned) throw new UnrecoverableError(e.message);
      throw e;
    }
  };
}
