import type { Queue } from 'bullmq';
import type { AlertQueue } from '../app/alerts.js';

/**
 * Asks the `alerts` queue for a run. Deduplicated: while a run waits, another request adds nothing (the waiting run
 * will see these alerts, recorded before it starts); while one runs, BullMQ keeps the request and adds a run when it
 * finishes. So no recorded alert waits for the sweep. The intake asks at most once per TV_APPLY_DELAY_MS, so under a
 * burst each run applies everything recorded meanwhile. The data names the alerts that asked, for the queue board.
 */
export function alertQueue(queue: Queue): AlertQueue {
  return {
    async enqueue(alerts) {
      if (alerts.length === 0) return;
      await queue.add(
        'alerts',
        { alertIds: alerts.map((a) => a.id), symbols: [...new Set(alerts.map((a) => a.symbol))].sort() },
        { deduplication: { id: 'apply-alerts', keepLastIfActive: true } },
      );
    },
  };
}
