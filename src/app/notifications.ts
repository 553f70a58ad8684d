import { createHmac } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import type { Notification } from './ports/core.js';
import {
  DeliveryAbandoned,
  type DeliveryJob,
  DeliveryPostponed,
  type DeliveryQueue,
  type Destination,
  type DigestBuffer,
  type NotificationFailures,
  type NotifyPrefs,
  type OutgoingMessage,
  RetryLater,
  type Senders,
  Undeliverable,
} from './ports/notifications.js';

export function notificationReply(n: Notification): OutgoingMessage {
  return { title: n.title, lines: n.lines, severity: n.severity };
}

/** Many fills in one message: a count per grid, then the fills themselves (as many as fit). */
export function digestReply(items: readonly Notification[]): OutgoingMessage {
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

/** The key notification_failure holds for a delivery: a digest's job id, or the notification's own key. */
export function failureKey(job: { name: string; id: string; notificationKey: string | null }): string {
  return job.name === 'digest' ? `digest-${job.id}` : (job.notificationKey ?? '');
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
      deliveries: DeliveryQueue;
      digests: DigestBuffer;
      failures: NotificationFailures;
      destinations: readonly Destination[];
      prefs: Pick<NotifyPrefs, 'muted'>;
      senders: Senders;
      digestMs: number;
      log: Logger;
      /** Draws a notification's chart at delivery; null when there is nothing to draw. */
      chart?: (kind: NonNullable<Notification['chart']>) => Promise<OutgoingMessage['image'] | null>;
      fetch?: typeof fetch;
    },
  ) {}

  private destination(id: string): Destination | undefined {
    return this.deps.destinations.find((d) => d.id === id);
  }

  /** A notification from the queue: fanned out to its destinations. */
  async route(n: Notification): Promise<void> {
    const { deliveries, digests, digestMs, prefs } = this.deps;
    for (const d of this.deps.destinations) {
      if (d.kind === 'telegram' && d.userId && n.severity !== 'critical') {
        if ((await prefs.muted('telegram', d.userId)).includes(n.category)) continue;
      }
      if (n.category === 'fills' && digestMs > 0) {
        await digests.push(d.id, n);
        await this.scheduleDigest(d.id);
        continue;
      }
      await deliveries.deliver(d.id, n);
    }
  }

  private async scheduleDigest(destinationId: string): Promise<void> {
    const now = Date.now();
    const window = Math.floor(now / this.deps.digestMs);
    await this.deps.deliveries.digest(destinationId, window, (window + 1) * this.deps.digestMs - now);
  }

  /**
   * A delivery job. Throws DeliveryPostponed when the destination asked to wait (the job is back in the queue), and
   * DeliveryAbandoned when it will never take the message (recorded first).
   */
  async deliver(job: DeliveryJob): Promise<void> {
    const d = this.destination(job.destination);
    if (!d) {
      this.deps.log.warn(`notification for ${job.destination}, which is no longer configured: dropped`);
      return;
    }
    let items = job.digest;
    if (job.name === 'digest' && !items) {
      const drained = await this.deps.digests.drain(d.id);
      await job.keepDigest(drained);
      if (drained.length === 0) return;
      items = drained;
    }
    const single = job.notification;
    const image = !items && single?.chart && this.deps.chart ? await this.deps.chart(single.chart) : null;
    const reply = items ? digestReply(items) : { ...notificationReply(single!), ...(image ? { image } : {}) };
    const key = items ? `digest-${job.id}` : single!.key;
    try {
      await this.send(d, reply, key);
    } catch (e) {
      if (e instanceof RetryLater && (await job.postpone(Date.now() + e.afterMs)))
        throw new DeliveryPostponed();
      const final = e instanceof Undeliverable || job.attemptsMade + 1 >= job.attempts;
      if (final) {
        await this.deps.failures.record({
          destination: d.id,
          key,
          title: reply.title,
          reason: (e as Error).message,
        });
        this.deps.log.error(
          `notification "${reply.title}" to ${d.id} undeliverable: ${(e as Error).message}`,
        );
        throw new DeliveryAbandoned((e as Error).message);
      }
      throw e;
    }
    // Fills that arrived while this digest was being sent wait for the next window, which this schedules.
    if (items && (await this.deps.digests.waiting(d.id))) await this.scheduleDigest(d.id);
  }

  private async send(d: Destination, reply: OutgoingMessage, key: string): Promise<void> {
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
  private async post(
    d: Extract<Destination, { kind: 'webhook' }>,
    reply: OutgoingMessage,
    key: string,
  ): Promise<void> {
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
