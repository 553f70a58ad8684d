import { createHmac } from 'node:crypto';
import { DelayedError, type Job, type Queue, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import type { Notification } from '../app/ports.js';
import { NotificationPayload } from '../jobs/payloads.js';
import type { Logger } from '../log/logger.js';
import type { NotifyPrefs } from './notify-prefs.js';
import type { Reply } from './reply.js';
import { RetryLater, Undeliverable } from './telegram.js';

export type Destination =
  | {
      readonly kind: 'telegram';
      readonly id: string;
      readonly chatId: string;
      readonly topicId?: number;
      readonly userId?: string;
    }
  | { readonly kind: 'discord'; readonly id: string; readonly channelId: string }
  | { readonly kind: 'webhook'; readonly id: string; readonly url: string; readonly secret: string };

export interface Senders {
  telegram?: (chatId: string, reply: Reply, topicId?: number) => Promise<void>;
  discord?: (channelId: string, reply: Reply) => Promise<void>;
}

const DeliveryPayload = z.object({
  destination: z.string(),
  notification: NotificationPayload.optional(),
  /** A digest: the fills drained from the destination's buffer, kept on the job so a retry sends the same ones. */
  digest: z.array(NotificationPayload).optional(),
});

export function notificationReply(n: Notification): Reply {
  return { title: n.title, lines: n.lines, severity: n.severity };
}

/** Many fills in one message: a count per grid, then the fills themselves (as many as fit). */
export function digestReply(items: readonly Notification[]): Reply {
  if (items.length === 1) return notificationReply(items[0]!);
  const byGrid = new Map<string, number>();
  for (const n of items) byGrid.set(n.gridId ?? '?', (byGrid.get(n.gridId ?? '?') ?? 0) + 1);
  const shown = items.slice(0, 30).map((n) => [n.title, ...n.lines].join(' · '));
  return {
    title: `${items.length} fills`,
    severity: 'info',
    lines: [
      [...byGrid].map(([g, k]) => `${g}: ${k}`).join(' · '),
      ...shown,
      ...(items.length > shown.length ? [`… and ${items.length - shown.length} more (/trades)`] : []),
    ],
  };
}

/**
 * Where notifications go and how they get there. Every notification becomes one delivery job per destination (a job
 * id per destination and key: delivered once each, retried on its own); fills to a destination within the digest
 * window become one message. A 429 delays the delivery by its retry_after; a message that can never be delivered is
 * recorded with its reason (notification_failure) and logged, never dropped silently.
 */
export class NotificationRouter {
  constructor(
    private readonly deps: {
      ds: DataSource;
      redis: Redis;
      prefix: string;
      deliveries: Queue;
      destinations: readonly Destination[];
      prefs: NotifyPrefs;
      senders: Senders;
      digestMs: number;
      log: Logger;
      /** Draws a notification's chart at delivery; null when there is nothing to draw. */
      chart?: (kind: NonNullable<Notification['chart']>) => Promise<Reply['image'] | null>;
      fetch?: typeof fetch;
    },
  ) {}

  private destination(id: string): Destination | undefined {
    return this.deps.destinations.find((d) => d.id === id);
  }

  /** A notification from the queue: fanned out to its destinations. */
  async route(n: Notification): Promise<void> {
    const { deliveries, redis, prefix, digestMs, prefs } = this.deps;
    for (const d of this.deps.destinations) {
      if (d.kind === 'telegram' && d.userId && n.severity !== 'critical') {
        if ((await prefs.muted('telegram', d.userId)).includes(n.category)) continue;
      }
      if (n.category === 'fills' && digestMs > 0) {
        await redis.rpush(`${prefix}:digest:${d.id}`, JSON.stringify(n));
        await this.scheduleDigest(d.id);
        continue;
      }
      await deliveries.add(
        'deliver',
        { destination: d.id, notification: n },
        { jobId: `dl-${d.id}-${n.key}` },
      );
    }
  }

  private async scheduleDigest(destinationId: string): Promise<void> {
    const window = Math.floor(Date.now() / this.deps.digestMs);
    await this.deps.deliveries.add(
      'digest',
      { destination: destinationId },
      { jobId: `dg-${destinationId}-${window}`, delay: (window + 1) * this.deps.digestMs - Date.now() },
    );
  }

  /** A delivery job. */
  async deliver(job: Job, token?: string): Promise<void> {
    const data = DeliveryPayload.parse(job.data);
    const d = this.destination(data.destination);
    if (!d) {
      this.deps.log.warn(`notification for ${data.destination}, which is no longer configured: dropped`);
      return;
    }
    let items = data.digest as Notification[] | undefined;
    if (job.name === 'digest' && !items) {
      const key = `${this.deps.prefix}:digest:${d.id}`;
      const [[, raw]] = (await this.deps.redis.multi().lrange(key, 0, -1).del(key).exec()) as [
        [unknown, string[]],
      ];
      const seen = new Set<string>();
      const drained = raw
        .map((r) => NotificationPayload.parse(JSON.parse(r)))
        .filter((n) => !seen.has(n.key) && seen.add(n.key));
      await job.updateData({ ...data, digest: drained });
      if (drained.length === 0) return;
      items = drained as Notification[];
    }
    const single = data.notification as Notification | undefined;
    const image = !items && single?.chart && this.deps.chart ? await this.deps.chart(single.chart) : null;
    const reply = items ? digestReply(items) : { ...notificationReply(single!), ...(image ? { image } : {}) };
    const key = items ? `digest-${job.id}` : (data.notification as Notification).key;
    try {
      await this.send(d, reply, key);
    } catch (e) {
      if (e instanceof RetryLater && token) {
        await job.moveToDelayed(Date.now() + e.afterMs, token);
        throw new DelayedError();
      }
      const final = e instanceof Undeliverable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (final) {
        await this.deps.ds.query(
          `INSERT INTO notification_failure (destination, notification_key, title, reason) VALUES ($1, $2, $3, $4)
           ON CONFLICT (destination, notification_key) DO NOTHING`,
          [d.id, key, reply.title, (e as Error).message],
        );
        this.deps.log.error(
          `notification "${reply.title}" to ${d.id} undeliverable: ${(e as Error).message}`,
        );
        throw new UnrecoverableError((e as Error).message);
      }
      throw e;
    }
    // Fills that arrived while this digest was being sent wait for the next window, which this schedules.
    if (items && (await this.deps.redis.llen(`${this.deps.prefix}:digest:${d.id}`)) > 0)
      await this.scheduleDigest(d.id);
  }

  private async send(d: Destination, reply: Reply, key: string): Promise<void> {
    switch (d.kind) {
      case 'telegram': {
        if (!this.deps.senders.telegram) throw new Error('Telegram is not running in this process');
        return this.deps.senders.telegram(d.chatId, reply, d.topicId);
      }
      case 'discord': {
        if (!this.deps.senders.discord) throw new Error('Discord is not running in this process');
        return this.deps.senders.discord(d.channelId, reply);
      }
      case 'webhook':
        return this.post(d, reply, key);
    }
  }

  /** The outgoing webhook: JSON, signed with HMAC-SHA256 of the exact body, so any push relay can check it. */
  private async post(d: Extract<Destination, { kind: 'webhook' }>, reply: Reply, key: string): Promise<void> {
    const body = JSON.stringify({ key, title: reply.title, lines: reply.lines, severity: reply.severity });
    const signature = createHmac('sha256', d.secret).update(body).digest('hex');
    const res = await (this.deps.fetch ?? fetch)(d.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-gridops-signature': `sha256=${signature}`,
        'x-gridops-key': key,
      },
      body,
      signal: AbortSignal.timeout(5000),
    });
    if (res.ok) return;
    if (res.status === 429)
      throw new RetryLater(Number(res.headers.get('retry-after') ?? 5) * 1000, 'webhook 429');
    if (res.status >= 400 && res.status < 500) throw new Undeliverable(`webhook answered ${res.status}`);
    throw new Error(`webhook answered ${res.status}`);
  }
}
