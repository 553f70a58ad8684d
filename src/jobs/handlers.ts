import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import type { GridProcessor } from '../app/grid-processor.js';
import type { GridEventBus } from '../app/ports/core.js';
import type { GridStore } from '../app/ports/grids.js';
import type { TradeStore } from '../app/ports/trades.js';
import type { Reconciler } from '../app/reconciler.js';
import { toPriceUnits } from '../engine/money.js';
import type { PaperExchange } from '../exchange/paper/paper-exchange.js';
import type { Logger } from '../log/logger.js';
import type { PriceCache } from '../market/price-cache.js';
import { AlertPayload, GridEventPayload, NotificationPayload, PricePayload } from './payloads.js';

function parse<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: Error } },
  job: Job,
): T {
  const r = schema.safeParse(job.data);
  // A payload that does not parse will not parse on a retry either: fail it for good, visibly.
  if (!r.success) throw new UnrecoverableError(`bad ${job.name} payload: ${r.error.message}`);
  return r.data;
}

export function gridEventHandler(processor: GridProcessor) {
  return async (job: Job): Promise<void> => {
    const { gridId, event } = parse(GridEventPayload, job);
    await processor.apply(gridId, event);
  };
}

export interface PriceHandlerDeps {
  readonly grids: Pick<GridStore, 'priceTriggers'>;
  readonly trades: Pick<TradeStore, 'recordPrice' | 'refreshPosition'>;
  readonly paper: PaperExchange | null;
  readonly prices: PriceCache;
  readonly bus: GridEventBus;
  /**
   * The risk monitor sees every price first: a price it does not believe (a jump not yet confirmed) is held back from
   * trading; the others feed the volatility breakers.
   */
  readonly monitor?: { admitPrice(symbol: string, price: string): Promise<boolean> };
  /** Orders held back by a rule that can clear are judged again on every price of their symbol. */
  readonly held?: { releaseHeld(symbol: string, options?: { except?: readonly string[] }): Promise<unknown> };
  /**
   * Symbols the feed follows without trading them (BTC for the BTC filter): their prices are kept (the latest, the
   * candle) and nothing else. They feed no breaker: a market no grid trades must not count towards the two tripped
   * breakers that kill. A bad print lasts one price in the candle's close, and can only hold altcoin buys back.
   */
  readonly followOnly?: ReadonlySet<string>;
}

/**
 * One price update: the paper exchange matches its book on it (its fills reach the grids through the exchange's
 * execution stream), the latest price and the 1-minute candle are kept, positions are marked, grids whose stop-loss or
 * take-profit the price reaches, grids waiting for a trigger price it may reach and trailing grids whose next shift
 * it may set off get a price event (other grids have nothing to do with a price), and orders of the symbol held back
 * by a rule that can clear are judged again.
 */
export function priceHandler(deps: PriceHandlerDeps) {
  return async (job: Job): Promise<void> => {
    const tick = parse(PricePayload, job);
    const followedOnly = deps.followOnly?.has(tick.symbol) ?? false;
    if (!followedOnly && deps.monitor && !(await deps.monitor.admitPrice(tick.symbol, tick.price))) return;
    if (deps.paper && !followedOnly) await deps.paper.onPrice(tick.symbol, tick.seq, tick.price);
    await deps.prices.set([tick]);
    await deps.trades.recordPrice(tick.symbol, new Date(Math.floor(tick.atMs / 60_000) * 60_000), tick.price);
    if (followedOnly) return;
    // Positions are derived from the grids: refreshed here, marked at the new price, off the fills' critical path.
    await deps.trades.refreshPosition(tick.symbol, tick.price);
    const { triggered, held } = await deps.grids.priceTriggers(tick.symbol, tick.price);
    for (const id of triggered) {
      await deps.bus.publish(id, { kind: 'price', price: toPriceUnits(tick.price) }, `px-${id}-${tick.seq}`);
    }
    // A grid this price stops keeps its held orders home: its stop cancels them.
    if (held && deps.held) await deps.held.releaseHeld(tick.symbol, { except: triggered });
  };
}

export function notificationHandler(log: Logger) {
  return async (job: Job): Promise<void> => {
    const n = parse(NotificationPayload, job);
    const level = n.severity === 'critical' ? 'error' : n.severity === 'warning' ? 'warn' : 'info';
    log[level](
      { category: n.category, ...(n.gridId ? { gridId: n.gridId } : {}) },
      [n.title, ...n.lines].join(' | '),
    );
  };
}

/** The maintenance queue's scheduled jobs: reconciliation with the exchange, and the risk check. */
export function maintenanceHandler(reconciler: Reconciler, monitor: { evaluate(): Promise<unknown> }) {
  return async (job: Job): Promise<void> => {
    if (job.name === 'risk-check') await monitor.evaluate();
    else await reconciler.run();
  };
}

/**
 * The alerts queue: a run that applies every recorded alert (asked for by the webhook as it records them), or the
 * scheduled sweep that applies recorded alerts which never reached the queue.
 */
export function alertHandler(
  processor: {
    process(): Promise<number>;
    sweep(olderThanMs: number): Promise<number>;
  },
  sweepAfterMs: number,
) {
  return async (job: Job): Promise<void> => {
    if (job.name === 'sweep') {
      await processor.sweep(sweepAfterMs);
      return;
    }
    // The payload names the alerts that asked for this run (for the queue board); the run applies all pending ones.
    parse(AlertPayload, job);
    await processor.process();
  };
}
