import type { CandleSeries } from '../candles.js';
import type { GridPlan } from '../grid/plan.js';
import { Dec, decText, priceDec, priceText } from '../money.js';
import { type BuyDelivery, type BuyFeeIn, buyDelivery } from './fees.js';
import type { BacktestResult, EquitySeries, StopOutcome } from './result.js';

/**
 * The backtester's loop: the normative fill model walked over candles for one grid, fast enough for years of
 * 1-minute candles in well under a second.
 *
 * It leans on an invariant of the grid rules: cells below a boundary B hold quote and cells from B up hold base, so
 * the open orders are buys at p_0..p_{B-1} and sells at p_{B+1}..p_N, every buy below the price and every sell above
 * it. A falling segment can only fill the buys from p_{B-1} down, a rising one the sells from p_{B+1} up, each fill
 * moving B by one. A segment therefore costs one comparison plus one step per fill.
 *
 * Money stays exact: the loop only counts fills per cell (integers) and the exact decimal ledger is computed from
 * those counts at the end. A double-precision shadow of the quote balance serves the drawdown and the chart only.
 * With buy fees in base every grid buy delivers the same whole lots and dust (fees.ts), and each start cell its own
 * fixed lots, so counts still determine the ledger.
 *
 * It does not call engine/matching.ts (that would cost the per-segment scan this loop exists to avoid);
 * test/unit/engine/backtest-differential.test.ts proves it equal, figure for figure, to driving the general engine
 * step() through matching.ts (engine/backtest/reference.ts), on 200 seeded random cases over walks and real candles.
 */
export interface FastRun {
  readonly result: BacktestResult;
  readonly series: EquitySeries;
}

class GridWalker {
  boundary: number;
  stopped = false;
  stopPrice = 0;
  readonly buyCount: Float64Array;
  readonly sellCount: Float64Array;
  /** 1 while a cell still holds the base bought at start (its entry price is P0). */
  readonly fromStart: Uint8Array;
  readonly startSold: Uint8Array;
  readonly lines: Float64Array;
  /** Lots each cell holds while it holds base (what its sell sells). */
  readonly held: Float64Array;
  readonly n: number;
  readonly q: number;
  /** Lots a grid buy delivers to its cell, and the fraction of a lot it leaves as dust. */
  readonly gridLots: number;
  readonly gridDustF: number;
  readonly stopLoss: number;
  readonly takeProfit: number;
  // Double-precision shadows in price-unit x lot units: for drawdown and charts only, never reported as money.
  quoteF: number;
  profitF = 0;
  /** Lots held by the base cells, and the dust in lots. */
  heldF = 0;
  dustF: number;
  readonly makerKeep: number;
  /** Quote a grid buy costs per unit of notional: 1 + maker with the fee in quote, 1 with it in base. */
  readonly buyCost: number;
  readonly startPrice: number;

  constructor(plan: GridPlan, delivery: BuyDelivery, buyFeeIn: BuyFeeIn, quoteAfterStartF: number) {
    this.n = plan.grids;
    this.q = plan.qtyLots;
    this.gridLots = delivery.gridLots;
    this.gridDustF = delivery.gridDustLots.toNumber();
    this.dustF = delivery.startDustLots.toNumber();
    this.lines = Float64Array.from(plan.lines);
    this.boundary = plan.gapLine;
    this.buyCount = new Float64Array(this.n);
    this.sellCount = new Float64Array(this.n);
    this.fromStart = new Uint8Array(this.n);
    this.startSold = new Uint8Array(this.n);
    this.held = Float64Array.from(delivery.startLots);
    for (let c = plan.gapLine; c < this.n; c++) {
      this.fromStart[c] = 1;
      this.heldF += this.held[c]!;
    }
    this.stopLoss = plan.stopLoss ?? Number.NEGATIVE_INFINITY;
    this.takeProfit = plan.takeProfit ?? Number.POSITIVE_INFINITY;
    const maker = Number(plan.makerFee);
    this.makerKeep = 1 - maker;
    this.buyCost = buyFeeIn === 'quote' ? 1 + maker : 1;
    this.quoteF = quoteAfterStartF;
    this.startPrice = plan.startPrice;
  }

  /** Equity at a price, in price-unit x lot units (a double: drawdown and charts only). */
  equityAt(price: number): number {
    return this.quoteF + (this.heldF + this.dustF) * price;
  }

  /** The price falls to x: fill the buys at or above x, or stop at the stop-loss. Returns true once stopped. */
  fall(x: number): boolean {
    const floor = x <= this.stopLoss ? this.stopLoss + 1 : x; // a buy exactly at S does not fill
    const lines = this.lines;
    let b = this.boundary;
    while (b > 0 && lines[b - 1]! >= floor) {
      b--;
      this.buyCount[b]!++;
      this.fromStart[b] = 0;
      this.quoteF -= this.q * lines[b]! * this.buyCost;
      this.held[b] = this.gridLots;
      this.heldF += this.gridLots;
      this.dustF += this.gridDustF;
    }
    this.boundary = b;
    if (x <= this.stopLoss) {
      this.stopped = true;
      this.stopPrice = this.stopLoss;
      return true;
    }
    return false;
  }

  /** The price rises to x: fill the sells at or below x, or stop at the take-profit. Returns true once stopped. */
  rise(x: number): boolean {
    const ceiling = x >= this.takeProfit ? this.takeProfit - 1 : x; // a sell exactly at T does not fill
    const lines = this.lines;
    const n = this.n;
    let b = this.boundary;
    while (b < n && lines[b + 1]! <= ceiling) {
      const price = lines[b + 1]!;
      const entry = this.fromStart[b] === 1 ? this.startPrice : lines[b]!;
      if (this.fromStart[b] === 1) {
        this.startSold[b] = 1;
        this.fromStart[b] = 0;
      }
      this.sellCount[b]!++;
      const lots = this.held[b]!;
      this.quoteF += lots * price * this.makerKeep;
      this.profitF += lots * (price - entry);
      this.heldF -= lots;
      b++;
    }
    this.boundary = b;
    if (x >= this.takeProfit) {
      this.stopped = true;
      this.stopPrice = this.takeProfit;
      return true;
    }
    return false;
  }

  /** Moves the price from one point of the path to the next. */
  move(from: number, to: number): boolean {
    if (to < from) return this.fall(to);
    if (to > from) return this.rise(to);
    return false;
  }
}

export interface FastBacktestOptions {
  /** Sample the equity series about this many times over the run (for charts). */
  readonly samples?: number;
  /** Where buys pay their fee (quote by default); see fees.ts. */
  readonly buyFeeIn?: BuyFeeIn | undefined;
}

export function runFastBacktest(
  plan: GridPlan,
  candles: CandleSeries,
  options: FastBacktestOptions = {},
): FastRun {
  const count = candles.length;
  if (count === 0) throw new Error('a backtest needs at least one candle');
  const buyFeeIn = options.buyFeeIn ?? 'quote';
  const delivered = buyDelivery(plan, buyFeeIn);
  if (!delivered.ok) throw new Error(delivered.error);
  const delivery = delivered.value;
  const n = plan.grids;
  const q = plan.qtyLots;
  const qtyStep = new Dec(plan.qtyStep);
  const unit = qtyStep.div(1e8).toNumber(); // quote per (price unit x lot), for the double-precision shadows
  const startCells = n - plan.gapLine;
  const taker = Number(plan.takerFee);
  const investmentF = Number(plan.investment) / unit;
  const startCostF = startCells * q * plan.startPrice * (buyFeeIn === 'quote' ? 1 + taker : 1);
  const grid = new GridWalker(plan, delivery, buyFeeIn, investmentF - startCostF);

  const { open, high, low, close, openTimeMs } = candles;
  const sampleEvery = Math.max(1, Math.ceil(count / (options.samples ?? 1000)));
  const series: EquitySeries = { openTimeMs: [], equity: [], gridProfit: [] };
  let peak = investmentF;
  let maxDrawdown = 0;
  let prev = open[0]!;
  let stopAt = -1;
  let i = 0;
  for (; i < count; i++) {
    const o = open[i]!;
    const h = high[i]!;
    const l = low[i]!;
    const c = close[i]!;
    let stopped: boolean;
    if (c >= o) {
      stopped = grid.move(prev, o) || grid.move(o, l) || grid.move(l, h) || grid.move(h, c);
    } else {
      stopped = grid.move(prev, o) || grid.move(o, h) || grid.move(h, l) || grid.move(l, c);
    }
    if (stopped) {
      stopAt = i;
      break;
    }
    prev = c;
    const equity = grid.equityAt(c);
    if (equity > peak) peak = equity;
    else if ((peak - equity) / peak > maxDrawdown) maxDrawdown = (peak - equity) / peak;
    if (i % sampleEvery === 0) {
      series.openTimeMs.push(openTimeMs[i]!);
      series.equity.push(equity * unit);
      series.gridProfit.push(grid.profitF * unit);
    }
  }

  // Exact ledger from the counts. A cell's first sell may be of its start lots (entry P0); every other sell is of
  // what a grid buy delivered (entry its own line).
  const lines = plan.lines;
  const p0 = priceDec(plan.startPrice);
  const qty = qtyStep.times(q);
  const maker = new Dec(plan.makerFee);
  const takerD = new Dec(plan.takerFee);
  const gridLots = new Dec(delivery.gridLots);
  let buys = 0;
  let sells = 0;
  let buyLineSum = new Dec(0); // sum of grid buy prices
  let soldLotsValue = new Dec(0); // sum over grid sells of lots x sell price
  let soldLotsGain = new Dec(0); // sum over grid sells of lots x (sell price - entry)
  for (let cell = 0; cell < n; cell++) {
    const bc = grid.buyCount[cell]!;
    const sc = grid.sellCount[cell]!;
    buys += bc;
    sells += sc;
    const line = priceDec(lines[cell]!);
    const up = priceDec(lines[cell + 1]!);
    buyLineSum = buyLineSum.plus(line.times(bc));
    const startSold = grid.startSold[cell]!;
    const startLots = new Dec(delivery.startLots[cell]!).times(startSold);
    const boughtLots = gridLots.times(sc - startSold);
    soldLotsValue = soldLotsValue.plus(up.times(startLots.plus(boughtLots)));
    soldLotsGain = soldLotsGain.plus(up.minus(p0).times(startLots)).plus(up.minus(line).times(boughtLots));
  }
  const startCost = p0.times(qty).times(startCells);
  const buysCost = buyLineSum.times(qty);
  const sold = soldLotsValue.times(qtyStep);
  // Every fee is reported valued in quote; only those actually paid in quote come out of the quote balance.
  const buyFees = startCost.times(takerD).plus(buysCost.times(maker));
  let quoteFees = sold.times(maker).plus(buyFeeIn === 'quote' ? buyFees : 0);
  let fees = buyFees.plus(sold.times(maker));
  let quote = new Dec(plan.investment).minus(startCost).minus(buysCost).plus(sold);
  let gridProfit = soldLotsGain.times(qtyStep);
  const dust = delivery.startDustLots.plus(delivery.gridDustLots.times(buys)).times(qtyStep);
  let baseLots = new Dec(0);
  for (let cell = grid.boundary; cell < n; cell++) baseLots = baseLots.plus(grid.held[cell]!);
  let stopped: StopOutcome | null = null;
  if (stopAt >= 0) {
    const exit = priceDec(grid.stopPrice);
    const proceeds = exit.times(qtyStep).times(baseLots);
    let exitCost = new Dec(0);
    for (let cell = grid.boundary; cell < n; cell++) {
      const entry = grid.fromStart[cell] === 1 ? p0 : priceDec(lines[cell]!);
      exitCost = exitCost.plus(entry.times(grid.held[cell]!));
    }
    gridProfit = gridProfit.plus(proceeds.minus(exitCost.times(qtyStep)));
    fees = fees.plus(proceeds.times(takerD));
    quoteFees = quoteFees.plus(proceeds.times(takerD));
    quote = quote.plus(proceeds);
    baseLots = new Dec(0);
    stopped = {
      reason: grid.stopPrice === plan.stopLoss ? 'stop-loss' : 'take-profit',
      price: priceText(grid.stopPrice),
      candleIndex: stopAt,
      openTimeMs: openTimeMs[stopAt]!,
    };
    // The stop candle's close still counts for the drawdown: equity is quote (and any dust) from here on.
    const equityF =
      quote
        .minus(quoteFees)
        .plus(dust.times(priceDec(close[stopAt]!)))
        .toNumber() / unit;
    if ((peak - equityF) / peak > maxDrawdown) maxDrawdown = (peak - equityF) / peak;
    series.openTimeMs.push(openTimeMs[stopAt]!);
    series.equity.push(equityF * unit);
    series.gridProfit.push(gridProfit.toNumber());
  } else if ((count - 1) % sampleEvery !== 0) {
    const last = count - 1;
    series.openTimeMs.push(openTimeMs[last]!);
    series.equity.push(grid.equityAt(close[last]!) * unit);
    series.gridProfit.push(grid.profitF * unit);
  }
  quote = quote.minus(quoteFees);
  const endPrice = priceDec(close[count - 1]!);
  const baseQty = baseLots.times(qtyStep).plus(dust);
  const equity = quote.plus(baseQty.times(endPrice));
  return {
    series,
    result: {
      candles: count,
      buys,
      sells,
      qtyPerGrid: decText(qty),
      startBuyQty: decText(qty.times(startCells)),
      baseQty: decText(baseQty),
      quoteBalance: decText(quote),
      fees: decText(fees),
      gridProfit: decText(gridProfit),
      netProfit: decText(gridProfit.minus(fees)),
      equity: decText(equity),
      investment: plan.investment,
      startPrice: priceText(plan.startPrice),
      endPrice: decText(endPrice),
      maxDrawdownPct: maxDrawdown * 100,
      levels: lines.map(priceText),
      gapLine: plan.gapLine,
      stopped,
      buyFeeIn,
    },
  };
}
