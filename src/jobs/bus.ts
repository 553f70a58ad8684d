import type { Queue } from 'bullmq';
import type { GridEventBus, Notification, NotificationSink } from '../app/ports/core.js';
import type { GridEvent } from '../engine/grid/events.js';
import { jobId } from './payloads.js';

/**
 * Grid events onto the grid-events queue. The dedupe key becomes the job id: a first filter, not the guarantee.
 *
 * `tag` names the database the events belong to (App.jobTag): grid ids, client order ids and incident numbers restart
 * in a new database, and a Redis that served an old one still holds completed jobs under the same keys, which BullMQ
 * would take for this database's and drop. Tagged, the ids of two databases never meet.
 */
export class QueueGridEventBus implements GridEventBus {
  constructor(
    private readonly queue: Queue,
    private readonly tag = '',
  ) {}

  async publish(gridId: string, event: GridEvent, dedupeKey?: string): Promise<void> {
    const key = dedupeKey ?? defaultKey(event);
    await this.queue.add(event.kind, { gridId, event }, key ? { jobId: tagged('ev', this.tag, key) } : {});
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
  /** `tag`: the database's (see QueueGridEventBus), so a new database's kill alert #1 is not an old one's. */
  constructor(
    private readonly queue: Queue,
    private readonly tag = '',
  ) {}

  async notify(n: Notification): Promise<void> {
    await this.queue.add(n.category, n, { jobId: tagged('nt', this.tag, n.key) });
  }
}

/** A job id of a kind, the database's tag (when there is one) and the key. */
export function tagged(kind: string, tag: string, key: string): string {
  return tag ? jobId(kind, tag, key) : jobId(kind, key);
}
