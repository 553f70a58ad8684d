import type { GridEvent } from '../engine/grid/events.js';
import { Dec, toPriceUnits } from '../engine/money.js';
import type { Execution } from '../exchange/exchange.js';
import { type GridEventBus, gridIdOf } from './ports/core.js';
import type { GridStore } from './ports/grids.js';

/**
 * Turns the exchange's executions into fill events for their grids (a grid is named by its client order ids).
 * Used by the push path (the exchange's stream) and by the reconciler alike; the event's dedupe key is the execution id.
 */
export class ExecutionRouter {
  private readonly qtySteps = new Map<string, string>();

  constructor(
    private readonly grids: Pick<GridStore, 'qtyStep'>,
    private readonly bus: GridEventBus,
    /** The quote coin of a symbol, to tell a fee taken in quote from one taken in the base coin. */
    private readonly quoteAssetOf: (symbol: string) => string | undefined,
  ) {}

  async route(executions: readonly Execution[]): Promise<number> {
    let routed = 0;
    for (const e of executions) {
      const gridId = gridIdOf(e.clientOrderId);
      if (!gridId) continue;
      const event = await this.toEvent(gridId, e);
      if (!event) continue;
      await this.bus.publish(gridId, event, `fill-${e.execId}`);
      routed++;
    }
    return routed;
  }

  async toEvent(gridId: string, e: Execution): Promise<GridEvent | null> {
    const step = await this.qtyStep(gridId);
    if (step === null) return null;
    const lots = new Dec(e.qty).div(step);
    if (!lots.isInteger())
      throw new Error(`execution ${e.execId}: quantity ${e.qty} is not a multiple of ${step}`);
    return {
      kind: 'fill',
      clientOrderId: e.clientOrderId,
      execId: e.execId,
      price: toPriceUnits(e.price),
      lots: lots.toNumber(),
      fee: e.fee,
      feeCurrency: e.feeCurrency === this.quoteAssetOf(e.symbol) ? 'quote' : 'base',
      executedAtMs: e.executedAt.getTime(),
      orderId: e.exchangeOrderId,
    };
  }

  private async qtyStep(gridId: string): Promise<string | null> {
    const cached = this.qtySteps.get(gridId);
    if (cached) return cached;
    const step = await this.grids.qtyStep(gridId);
    if (!step) return null;
    this.qtySteps.set(gridId, step);
    return step;
  }
}
