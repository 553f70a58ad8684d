import { describe, expect, it } from 'vitest';
import type { GridEvent } from '../../../src/engine/grid/events.js';
import { GridEventPayload } from '../../../src/jobs/payloads.js';

/**
 * One event of every kind, every optional field set. Typed by kind, so a kind added to GridEvent and not here fails
 * the type check; the payload schema is held to GridEvent by a check of its own in src/jobs/payloads.ts.
 */
const EVERY_KIND: { readonly [K in GridEvent['kind']]: Extract<GridEvent, { kind: K }> } = {
  start: { kind: 'start', price: 10_000_000_000_000 },
  price: { kind: 'price', price: 9_950_000_000_000 },
  fill: {
    kind: 'fill',
    clientOrderId: 'g7-3-2',
    execId: 'exec-1',
    price: 9_900_000_000_000,
    lots: 10_000,
    fee: '0.00001',
    feeCurrency: 'base',
    executedAtMs: 1_764_800_000_000,
    orderId: 'bybit-123',
  },
  cancelled: { kind: 'cancelled', clientOrderId: 'g7-3-2' },
  rejected: { kind: 'rejected', clientOrderId: 'g7-3-2', reason: 'insufficient-balance' },
  pause: { kind: 'pause' },
  resume: { kind: 'resume' },
  stop: { kind: 'stop', by: 'kill' },
  'sell-base': { kind: 'sell-base' },
};

describe('grid event payloads', () => {
  // Protects against GridEventPayload drifting from GridEvent again (it had lost 'sell-base' and the stop's 'by').
  it('carries every kind of GridEvent through a job unchanged', () => {
    for (const event of Object.values(EVERY_KIND)) {
      const job = JSON.parse(JSON.stringify({ gridId: 'g7', event }));
      expect(GridEventPayload.parse(job), event.kind).toEqual({ gridId: 'g7', event });
    }
    // The fields a kind may leave out stay out.
    const bare = { kind: 'fill', clientOrderId: 'g7-3-2', execId: 'e', price: 1, lots: 1 } as const;
    expect(GridEventPayload.parse({ gridId: 'g7', event: bare }).event).toEqual(bare);
    expect(GridEventPayload.parse({ gridId: 'g7', event: { kind: 'stop' } }).event).toEqual({ kind: 'stop' });
  });

  it('refuses what no GridEvent is', () => {
    const bad: unknown[] = [
      { kind: 'explode' },
      { kind: 'stop', by: 'accident' },
      { kind: 'fill', clientOrderId: 'g7-3-2', execId: 'e', price: 1.5, lots: 1 },
      { kind: 'fill', clientOrderId: 'g7-3-2', execId: 'e', price: 1, lots: 1, fee: '1e-5' },
      { kind: 'start' },
    ];
    for (const event of bad) expect(GridEventPayload.safeParse({ gridId: 'g7', event }).success).toBe(false);
    expect(GridEventPayload.safeParse({ gridId: 'x7', event: { kind: 'pause' } }).success).toBe(false);
  });
});
