import { z } from 'zod';
import type { GridEvent } from '../engine/grid/events.js';

const int = z.number().int().nonnegative();
const decimal = z.string().regex(/^-?\d+(\.\d+)?$/);

/**
 * A grid event as a job carries it. It must accept exactly the engine's GridEvent: the checks below fail the build
 * when a kind or a field is added to one and not the other (test/unit/jobs/payloads.test.ts round-trips every kind).
 */
export const GridEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('start'), price: int }),
  z.object({ kind: z.literal('price'), price: int }),
  z.object({
    kind: z.literal('fill'),
    clientOrderId: z.string().min(1),
    execId: z.string().min(1),
    price: int,
    lots: int,
    fee: decimal.optional(),
    feeCurrency: z.enum(['quote', 'base']).optional(),
    executedAtMs: int.optional(),
    orderId: z.string().min(1).max(200).optional(),
  }),
  z.object({ kind: z.literal('cancelled'), clientOrderId: z.string().min(1) }),
  z.object({ kind: z.literal('rejected'), clientOrderId: z.string().min(1), reason: z.string() }),
  z.object({ kind: z.literal('pause') }),
  z.object({ kind: z.literal('resume') }),
  z.object({ kind: z.literal('stop'), by: z.enum(['manual', 'kill']).optional() }),
  z.object({ kind: z.literal('sell-base') }),
]);

type Writable<T> = T extends object ? { -readonly [K in keyof T]: T[K] } : T;
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Every kind, and for each kind the same fields of the same types, in both. */
const payloadIsGridEvent: Same<Writable<GridEvent>, Writable<z.output<typeof GridEventSchema>>> = true;
void payloadIsGridEvent;

/** Job payloads are external input too (Redis could hold anything): parsed before use. */
export const GridEventPayload = z.object({
  gridId: z.string().regex(/^g\d+$/),
  event: GridEventSchema,
});
export type GridEventPayload = z.output<typeof GridEventPayload>;

export const PricePayload = z.object({
  symbol: z.string().regex(/^[A-Z0-9]{2,20}$/),
  seq: int,
  price: decimal,
  atMs: int,
});
export type PricePayload = z.infer<typeof PricePayload>;

export const NotificationPayload = z.object({
  category: z.enum(['fills', 'lifecycle', 'risk', 'tradingview', 'report', 'error']),
  title: z.string(),
  lines: z.array(z.string()),
  severity: z.enum(['info', 'success', 'warning', 'critical']),
  key: z.string(),
  gridId: z.string().optional(),
  chart: z.enum(['profit-per-grid']).optional(),
});

export const ReportPayload = z.object({
  kind: z.enum(['daily', 'weekly']),
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
});

/** Alerts the webhook recorded together; the rows hold the alerts themselves. */
export const AlertPayload = z.object({
  alertIds: z.array(z.string().regex(/^\d+$/)).min(1).max(1000),
  symbols: z
    .array(z.string().regex(/^[A-Z0-9]{2,20}$/))
    .min(1)
    .max(1000),
});

/** BullMQ refuses ':' and all-digit custom ids; ours use '-' and always start with a word. */
export function jobId(...parts: (string | number)[]): string {
  return parts.join('-').replace(/[^A-Za-z0-9_.-]/g, '_');
}
