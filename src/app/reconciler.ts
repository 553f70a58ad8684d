import type { Exchange, Execution } from '../exchange/exchange.js';
import type { Logger } from '../log/logger.js';
import type { ExecutionRouter } from './execution-router.js';
import type { GridProcessor } from './grid-processor.js';
import { type GridEventBus, gridIdOf } from './ports/core.js';
import type { OrderStore } from './ports/orders.js';
import type { TradeStore } from './ports/trades.js';

export interface ReconcileReport {
  readonly missedFills: number;
  readonly intentsPlaced: number;
  readonly placingResolved: number;
  readonly cancelsResent: number;
  readonly vanishedOrders: number;
  readonly orphansCancelled: number;
}

/**
 * A placement still unanswered after this long is looked up on the exchange. Well above any answer time, so that a
 * placement in flight in another process is never mistaken for a lost one (a second send would be harmless, the
 * exchange knows the client order id, but it is noise).
 */
export const DEFAULT_PLACEMENT_TIMEOUT_MS = 10_000;

/** Executions not applied after this long are reported and skipped by the cursor (they still show in /status). */
const GIVE_UP_AFTER_MS = 60 * 60 * 1000;

/**
 * Makes the store agree with the exchange, at start (before trading resumes) and then periodically. What it repairs:
 * executions the bot never applied (a crash between the exchange's fill and our record, a dropped push), intents
 * never sent (a crash after the commit), placements whose answer was lost, cancels that did not go through, orders the
 * store thinks open that the exchange cancelled, and orders on the exchange that the store does not know (cancelled).
 * Every repair goes through the same idempotent paths as normal trading.
 */
export class Reconciler {
  constructor(
    private readonly deps: {
      orders: OrderStore;
      trades: Pick<TradeStore, 'executionCursor' | 'advanceExecutionCursor' | 'recordedExecIds'>;
      exchange: Exchange;
      bus: GridEventBus;
      processor: GridProcessor;
      log: Logger;
      router: ExecutionRouter;
      placementTimeoutMs?: number;
    },
  ) {}

  async run(options: { settleMs?: number } = {}): Promise<ReconcileReport> {
    const settle = options.settleMs ?? 2000;
    const missedFills = await this.applyMissedExecutions();
    const placingResolved = await this.resolveStalePlacements(
      this.deps.placementTimeoutMs ?? DEFAULT_PLACEMENT_TIMEOUT_MS,
    );
    const intentsPlaced = await this.placeStaleIntents(settle);
    const cancelsResent = await this.resendCancels(settle);
    const { vanished, orphans } = await this.compareOpenOrders(settle);
    const report = {
      missedFills,
      intentsPlaced,
      placingResolved,
      cancelsResent,
      vanishedOrders: vanished,
      orphansCancelled: orphans,
    };
    if (Object.values(report).some((n) => n > 0)) this.deps.log.info(report, 'reconciled with the exchange');
    return report;
  }

  private cursorName(): string {
    return `executions-${this.deps.exchange.name}`;
  }

  async applyMissedExecutions(): Promise<number> {
    const { trades, exchange, log } = this.deps;
    let cursor = await trades.executionCursor(this.cursorName());
    let published = 0;
    for (;;) {
      const batch = await exchange.executionsAfter(cursor, 500);
      if (batch.length === 0) break;
      const known = await trades.recordedExecIds(batch.map((e) => e.execId));
      let advanceTo: string | null = batch[batch.length - 1]!.cursor;
      let blocked = false;
      for (const execution of batch) {
        if (known.has(execution.execId)) continue;
        const gridId = gridIdOf(execution.clientOrderId);
        if (!gridId) continue; // not ours: an order placed by hand on the same account
        published += await this.deps.router.route([execution]);
        if (Date.now() - execution.executedAt.getTime() > GIVE_UP_AFTER_MS) {
          log.error(
            { execId: execution.execId, gridId },
            'an execution could not be applied for an hour; skipping it',
          );
        } else if (!blocked) {
          // Keep the cursor before the first execution still missing, so the next round looks again.
          blocked = true;
          advanceTo = previousCursor(batch, execution, cursor);
        }
      }
      if (advanceTo !== cursor && advanceTo !== null)
        await trades.advanceExecutionCursor(this.cursorName(), advanceTo);
      if (blocked || batch.length < 500) break;
      cursor = advanceTo;
    }
    return published;
  }

  private async placeStaleIntents(settleMs: number): Promise<number> {
    const ids = await this.deps.orders.staleIntents(settleMs);
    for (const id of ids) await this.deps.processor.placeIntent(id);
    return ids.length;
  }

  /** A placement whose answer was lost (a crash, a timeout): ask the exchange by client order id. */
  private async resolveStalePlacements(settleMs: number): Promise<number> {
    const { orders, exchange, bus } = this.deps;
    const rows = await orders.stalePlacements(settleMs);
    for (const r of rows) {
      const order = await exchange.getOrder(r.clientOrderId);
      if (order) {
        const status = order.status === 'open' || order.status === 'filled' ? 'placed' : 'cancelled';
        // Another worker's reconciler may settle it first: the one whose transition applies acts on it.
        if (!(await orders.settlePlacement(r.clientOrderId, status, order.exchangeOrderId))) continue;
        if (status === 'cancelled')
          await bus.publish(r.gridId, { kind: 'cancelled', clientOrderId: r.clientOrderId });
        else if (r.cancelRequested && order.status === 'open')
          await this.deps.processor.requestCancel(r.clientOrderId);
      } else if (r.cancelRequested) {
        if (await orders.abandonPlacement(r.clientOrderId))
          await bus.publish(r.gridId, { kind: 'cancelled', clientOrderId: r.clientOrderId });
      } else {
        // Never reached the exchange: back to an intent, placed by the next round.
        await orders.returnToIntent(r.clientOrderId);
      }
    }
    return rows.length;
  }

  private async resendCancels(settleMs: number): Promise<number> {
    const ids = await this.deps.orders.staleCancels(settleMs);
    for (const id of ids) await this.deps.processor.requestCancel(id);
    return ids.length;
  }

  private async compareOpenOrders(settleMs: number): Promise<{ vanished: number; orphans: number }> {
    const { orders, exchange, bus, log } = this.deps;
    const open = await exchange.openOrders();
    const openIds = new Set(open.map((o) => o.clientOrderId));
    const placed = await orders.placedBefore(settleMs);
    let vanished = 0;
    for (const r of placed) {
      if (openIds.has(r.clientOrderId)) continue;
      const order = await exchange.getOrder(r.clientOrderId);
      if (order?.status === 'filled') continue; // its execution arrives through applyMissedExecutions
      if (order?.status === 'open') continue;
      vanished++;
      if (await orders.cancelPlaced(r.clientOrderId))
        await bus.publish(r.gridId, { kind: 'cancelled', clientOrderId: r.clientOrderId });
    }
    const ours = open.filter((o) => gridIdOf(o.clientOrderId) !== null);
    const known = await orders.sentAmong(ours.map((o) => o.clientOrderId));
    let orphans = 0;
    for (const o of ours) {
      if (known.has(o.clientOrderId)) continue;
      // On the exchange under our name, but no grid wants it (its intent was cancelled while it was being sent).
      orphans++;
      log.warn({ clientOrderId: o.clientOrderId }, 'cancelling an order on the exchange that no grid wants');
      await exchange.cancelOrder(o.symbol, o.clientOrderId);
    }
    return { vanished, orphans };
  }
}

function previousCursor(
  batch: readonly Execution[],
  missing: Execution,
  start: string | null,
): string | null {
  const index = batch.indexOf(missing);
  return index === 0 ? start : batch[index - 1]!.cursor;
}
