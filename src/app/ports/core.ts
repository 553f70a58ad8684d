import type { GridEvent } from '../../engine/grid/events.js';

/** Where a grid event goes to be applied, in order, at least once (BullMQ in the app, a direct call in tests). */
export interface GridEventBus {
  publish(gridId: string, event: GridEvent, dedupeKey?: string): Promise<void>;
}

export type NotificationCategory = 'fills' | 'lifecycle' | 'risk' | 'tradingview' | 'report' | 'error';

/** A message for the humans: the log, the chat transports and the outgoing webhook each render it. */
export interface Notification {
  readonly category: NotificationCategory;
  readonly title: string;
  readonly lines: readonly string[];
  readonly severity: 'info' | 'success' | 'warning' | 'critical';
  /** Identifies the message for deduplication (an execution id, a report day). */
  readonly key: string;
  readonly gridId?: string;
  /** A chart drawn when the message is delivered (from the figures then), for transports that show images. */
  readonly chart?: 'profit-per-grid';
}

export interface NotificationSink {
  notify(notification: Notification): Promise<void>;
}

export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** The grid a client order id belongs to: ids are `<grid>-...` (see engine/grid/step.ts). */
export function gridIdOf(clientOrderId: string): string | null {
  const m = /^(g\d+)-/.exec(clientOrderId);
  return m ? m[1]! : null;
}
