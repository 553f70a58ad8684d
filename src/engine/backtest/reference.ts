import type { CandleSeries } from '../candles.js';
import { candlePath } from '../candles.js';
import type { GridCommand } from '../grid/events.js';
import type { GridParams } from '../grid/params.js';
import { createGridState, currentLines, type GridState } from '../grid/state.js';
import { type StepOutput, step } from '../grid/step.js';
import { matchSegment, type RestingOrder } from '../matching.js';
import { Dec, decText, priceDec, priceText } from '../money.js';
import { type BuyFeeIn, buyDelivery } from './fees.js';
import type { BacktestResult } from './result.js';

/**
 * A backtest that drives the general engine step() event by event through the paper matching model, exactly as paper
 * trading does. It is slow (every fill goes through decimal arithmetic and immutable state), so the backtester runs
 * the specialised loop in fast.ts; this one exists to prove that loop right and to share its path with paper trading.
 */
export function runReferenceBacktest(
  params: GridParams,
  candles: CandleSeries,
  gridId = 'bt',
  buyFeeIn: BuyFeeIn = 'quote',
): BacktestResult {
  const driver = new Driver(gridId, params, buyFeeIn);
  const first = candles.open[0]!;
  driver.handle(step(driver.state, { kind: 'start', price: first }), first);
  const plan = driver.state.plan;
  if (!plan) throw new Error(`grid rejected: ${JSON.stringify(driver.lastNotes)}`);
  // The same refusal as the fast loop's: a cell left with nothing to sell is not a grid the rules describe.
  const delivered = buyDelivery(plan, buyFeeIn);
  if (!delivered.ok) throw new Error(delivered.error);
  const investment = new Dec(plan.investment);
  let peak = investment;
  let maxDrawdown = new Dec(0);
  let prev = first;
  let stopIndex = -1;
  // A grid whose first price is its trigger started at once; else it waits for a segment of the path to reach it.
  let triggerIndex = plan.trigger !== null && driver.state.status !== 'waiting' ? 0 : -1;
  for (let i = 0; i < candles.length; i++) {
    const path = candlePath(candles.open[i]!, candles.high[i]!, candles.low[i]!, candles.close[i]!);
    for (const point of path) {
      if (driver.state.status === 'stopped') break;
      if (driver.state.status !== 'waiting') driver.segment(prev, point);
      else if (Math.min(prev, point) <= plan.trigger! && plan.trigger! <= Math.max(prev, point)) {
        driver.trigger(point);
        triggerIndex = i;
      }
      prev = point;
    }
    if (driver.state.status === 'stopped' && stopIndex < 0) stopIndex = i;
    const equity = driver.equityAt(candles.close[i]!);
    if (equity.gt(peak)) peak = equity;
    else {
      const dd = peak.minus(equity).div(peak);
      if (dd.gt(maxDrawdown)) maxDrawdown = dd;
    }
    if (stopIndex >= 0) break;
  }
  const s = driver.state;
  const qty = new Dec(plan.qtyStep).times(plan.qtyLots);
  const lines = currentLines(s);
  const started = s.cells.length > 0;
  const endPrice = candles.close[candles.length - 1]!;
  const baseQty = new Dec(plan.qtyStep).times(s.ledger.baseLots).plus(s.ledger.dust);
  return {
    candles: candles.length,
    buys: s.ledger.buys,
    sells: s.ledger.sells,
    qtyPerGrid: decText(qty),
    startBuyQty: started ? decText(qty.times(plan.grids - plan.gapLine)) : '0',
    baseQty: decText(baseQty),
    quoteBalance: decText(s.ledger.quote),
    fees: s.ledger.fees,
    gridProfit: s.ledger.gridProfit,
    netProfit: decText(new Dec(s.ledger.gridProfit).minus(s.ledger.fees)),
    equity: decText(new Dec(s.ledger.quote).plus(baseQty.times(priceDec(endPrice)))),
    investment: plan.investment,
    startPrice: priceText(plan.startPrice),
    endPrice: priceText(endPrice),
    maxDrawdownPct: maxDrawdown.times(100).toNumber(),
    levels: plan.lines.map(priceText),
    gapLine: plan.gapLine,
    stopped:
      stopIndex >= 0 && (s.stopReason === 'stop-loss' || s.stopReason === 'take-profit')
        ? {
            reason: s.stopReason,
            price: priceText(s.stopReason === 'stop-loss' ? plan.stopLoss! : plan.takeProfit!),
            candleIndex: stopIndex,
            openTimeMs: candles.openTimeMs[stopIndex]!,
          }
        : null,
    buyFeeIn,
    trailingShifts: s.trail?.shifts ?? 0,
    finalLower: priceText(lines[0]!),
    finalUpper: priceText(lines[lines.length - 1]!),
    triggeredAtMs: plan.trigger !== null && triggerIndex >= 0 ? candles.openTimeMs[triggerIndex]! : null,
  };
}

/** A minimal paper exchange in memory: a book of resting limits, market orders filled at the current price. */
class Driver {
  state: GridState;
  lastNotes: StepOutput['notes'] = [];
  private readonly book = new Map<string, RestingOrder>();
  private execSeq = 0;

  constructor(
    gridId: string,
    params: GridParams,
    private readonly buyFeeIn: BuyFeeIn,
  ) {
    this.state = createGridState(gridId, params);
  }

  equityAt(price: number): Dec {
    const plan = this.state.plan!;
    const base = new Dec(plan.qtyStep).times(this.state.ledger.baseLots).plus(this.state.ledger.dust);
    return new Dec(this.state.ledger.quote).plus(base.times(priceDec(price)));
  }

  /**
   * Walks one monotone segment: fills from the book as it stood (none when `fills` is false), then trailing up at the
   * segment's top when it rises (below a take-profit it reaches), then the stop-loss or take-profit if reached.
   */
  segment(from: number, to: number, fills = true): void {
    const plan = this.state.plan!;
    let end = to;
    let trigger: number | null = null;
    if (to < from && plan.stopLoss !== null && to <= plan.stopLoss) {
      end = plan.stopLoss + 1; // the buys strictly above S fill first
      trigger = plan.stopLoss;
    } else if (to > from && plan.takeProfit !== null && to >= plan.takeProfit) {
      end = plan.takeProfit - 1;
      trigger = plan.takeProfit;
    }
    if (fills) {
      for (const order of matchSegment([...this.book.values()], from, end)) {
        this.book.delete(order.clientOrderId);
        this.fill(order.clientOrderId, order.side, order.price, order.lots, true);
      }
    }
    if (to > from && plan.trailing && this.state.status === 'running')
      this.handle(step(this.state, { kind: 'price', price: end }), end);
    if (trigger !== null) this.handle(step(this.state, { kind: 'price', price: trigger }), trigger);
  }

  /**
   * The segment on which a waiting grid's trigger price is reached: the grid starts at T0 (its start buy fills there),
   * and the rest of the segment fills nothing, the book having been empty when it began.
   */
  trigger(to: number): void {
    const t0 = this.state.plan!.trigger!;
    this.handle(step(this.state, { kind: 'price', price: t0 }), t0);
    if (this.state.status === 'running') this.segment(t0, to, false);
  }

  handle(out: StepOutput, currentPrice: number): void {
    this.state = out.state;
    this.lastNotes = out.notes;
    for (const command of out.commands) this.execute(command, currentPrice);
  }

  private execute(command: GridCommand, currentPrice: number): void {
    if (command.kind === 'cancel') {
      this.book.delete(command.clientOrderId);
      this.handle(
        step(this.state, { kind: 'cancelled', clientOrderId: command.clientOrderId }),
        currentPrice,
      );
    } else if (command.type === 'market') {
      this.fill(command.clientOrderId, command.side, currentPrice, command.lots, false);
    } else {
      this.book.set(command.clientOrderId, {
        clientOrderId: command.clientOrderId,
        side: command.side,
        price: command.price!,
        lots: command.lots,
      });
    }
  }

  /**
   * A resting limit fills as maker, a market order as taker. With buy fees in base the fill carries the fee as Bybit
   * reports it (quantity x rate, in the base coin); otherwise the engine charges its rate in quote.
   */
  private fill(
    clientOrderId: string,
    side: 'buy' | 'sell',
    price: number,
    lots: number,
    isMaker: boolean,
  ): void {
    this.execSeq += 1;
    const execId = `x${this.execSeq}`;
    const plan = this.state.plan!;
    const event =
      this.buyFeeIn === 'base' && side === 'buy'
        ? ({
            kind: 'fill',
            clientOrderId,
            execId,
            price,
            lots,
            fee: decText(new Dec(plan.qtyStep).times(lots).times(isMaker ? plan.makerFee : plan.takerFee)),
            feeCurrency: 'base',
          } as const)
        : ({ kind: 'fill', clientOrderId, execId, price, lots } as const);
    this.handle(step(this.state, event), price);
  }
}
