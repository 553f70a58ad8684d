import type { Queue } from 'bullmq';
import type { GridEventBus, Notification, NotificationSink } from '../app/ports/core.js';
import type { GridEvent } from '../engine/grid/events.js';
import { jobId } from './payloads.js';

/** Grid events onto the grid-events queue. The dedupe key becomes the job id: a first filter, not the guarantee. */
export class QueueGridEventBus implements GridEventBus {
  constructor(private readonly queue: Queue) {}

  async publish(gridId: string, event: GridEvent, dedupeKey?: string): Promise<void> {
    const key = dedupeKey ?? defaultKey(event);
    await this.queue.add(event.kind, { gridId, event }, key ? { jobId: jobId('ev', key) } : {});
  }
}

function defaultKey(event: GridEvent): string | undefined {
  switch (event.kind) {
    case 'cancelled':
    case 'rejected':
      return `${event.kind}-${event.clientOrderId}`;
    case 'fill':
      return `fill-${event.execId}`;
    default:
      // price/start/pause/resume/stop carry no natural key: a repeat is harmless (the engine ignores it).
      return undefined;
  }
}

/** Notifications onto their queue; the bot role logs them and routes them to each destination. */
export class QueueNotifier implements NotificationSink {
  constructor(private readonly queue: Queue) {}

  async notify(n: Notification): Promise<void> {
    await this.queue.add(n.category, n, { jobId: jobId('nt', n.key) });
  }
}
