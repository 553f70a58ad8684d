import type { CandleSeries } from '../candles.js';
import type { GridPlan } from '../grid/plan.js';
import { lineAt, shiftedLots, shiftRefusal } from '../grid/trailing.js';
import { Dec, decText, priceDec, priceText } from '../money.js';
import { type BuyDelivery, type BuyFeeIn, buyDelivery } from './fees.js';
import type { BacktestResult, EquitySeries, StopOutcome } from './result.js';

/**
 * The backtester's loop: the normative fill model walked over candles for one grid, fast enough for years of
 * 1-minute candles in well under a second.
 *
 * It leans on an invariant of the grid rules: cells below a boundary B hold quote and cells from B up hold base, so
 * the open orders are buys at p_a..p_{B-1} and sells at p_{B+1}..p_{a+N}, every buy at or below the price and every
 * sell at or above it. A falling segment can only fill the buys from p_{B-1} down, a rising one the sells from p_{B+1}
 * up, each fill moving B by one. A segment therefore costs one comparison plus one step per fill. Trailing up keeps
 * the invariant: a shift is due only once every sell has filled, and moves a quote cell from the bottom to the top.
 *
 * The one way out of the invariant is a trigger price: the grid starts in the middle of a segment and its orders cannot
 * fill on the rest of it, so the price can end that segment beyond some of them. Until every order is back on its side
 * of the price the loop walks every cell on every segment ("general" mode, which is the fill model read literally),
 * then returns to the boundary.
 *
 * Money stays exact: the loop only counts fills per cell (integers) and the exact decimal ledger is computed from
 * those counts at the end. A double-precision shadow of the quote balance serves the drawdown and the chart only.
 * With buy fees in base every grid buy of a cell delivers the same whole lots and dust (fees.ts), and each start cell
 * its own fixed lots, so counts still determine the ledger.
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
  /** a: the window's lowest cell (it moves only when trailing up shifts); cells lo..top-1 trade, lines lo..top. */
  lo = 0;
  top: number;
  stopped = false;
  stopPrice = 0;
  /** Per cell, by its index among all the grid's cells (trailing adds cells above; arrays grow then). */
  buyCount: Float64Array;
  sellCount: Float64Array;
  /** 1 while a cell still holds the base bought at start (its entry price is P0). */
  fromStart: Uint8Array;
  startSold: Uint8Array;
  /** Lots each cell holds while it holds base (what its sell sells). */
  held: Float64Array;
  /** The cell's own quantity, what a grid buy of it delivers to the cell, and the fraction of a lot it leaves as dust. */
  qty: Float64Array;
  gridLots: Float64Array;
  gridDust: Float64Array;
  /** General mode only: 1 where the cell holds base. */
  isBase: Uint8Array;
  /** Lines by index; a trailing grid keeps line top+1 (where the next shift is due) computed too. */
  lines: Float64Array;
  general = false;
  /** The price at which the next trailing shift is due: +Infinity when the grid does not (or no longer) trail. */
  shiftAt = Number.POSITIVE_INFINITY;
  shifts = 0;
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

  constructor(
    private readonly plan: GridPlan,
    delivery: BuyDelivery,
    private readonly buyFeeIn: BuyFeeIn,
    quoteAfterStartF: number,
  ) {
    const n = plan.grids;
    this.top = n;
    this.dustF = delivery.startDustLots.toNumber();
    // A trailing grid's cells and lines grow with its shifts; room for as many again before the first growth.
    const room = plan.trailing ? 2 * n : n;
    this.lines = new Float64Array(room + 2).fill(Number.POSITIVE_INFINITY);
    this.lines.set(plan.lines);
    this.boundary = plan.gapLine;
    this.buyCount = new Float64Array(room);
    this.sellCount = new Float64Array(room);
    this.fromStart = new Uint8Array(room);
    this.startSold = new Uint8Array(room);
    this.held = new Float64Array(room);
    this.held.set(delivery.startLots);
    this.qty = new Float64Array(room).fill(plan.qtyLots);
    this.gridLots = new Float64Array(room).fill(delivery.gridLots);
    this.gridDust = new Float64Array(room).fill(delivery.gridDustLots.toNumber());
    this.isBase = new Uint8Array(room);
    for (let c = plan.gapLine; c < n; c++) {
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
    if (plan.trailing) {
      this.lines[n + 1] = lineAt(plan, n + 1) ?? Number.POSITIVE_INFINITY;
      this.shiftAt = this.lines[n + 1]!;
    }
  }

  /** Equity at a price, in price-unit x lot units (a double: drawdown and charts only). */
  equityAt(price: number): number {
    return this.quoteF + (this.heldF + this.dustF) * price;
  }

  holdsBase(cell: number): boolean {
    return this.general ? this.isBase[cell] === 1 : cell >= this.boundary;
  }

  /** The price falls to x: fill the buys at or above x, or stop at the stop-loss. Returns true once stopped. */
  fall(x: number): boolean {
    const floor = x <= this.stopLoss ? this.stopLoss + 1 : x; // a buy exactly at S does not fill
    const lines = this.lines;
    const lo = this.lo;
    let b = this.boundary;
    while (b > lo && lines[b - 1]! >= floor) {
      b--;
      this.buyCount[b]!++;
      this.fromStart[b] = 0;
      this.quoteF -= this.qty[b]! * lines[b]! * this.buyCost;
      const got = this.gridLots[b]!;
      this.held[b] = got;
      this.heldF += got;
      this.dustF += this.gridDust[b]!;
    }
    this.boundary = b;
    if (x <= this.stopLoss) return this.stopAt(this.stopLoss);
    return false;
  }

  /** The price rises to x: fill the sells at or below x, or stop at the take-profit. Returns true once stopped. */
  rise(x: number): boolean {
    const ceiling = x >= this.takeProfit ? this.takeProfit - 1 : x; // a sell exactly at T does not fill
    const lines = this.lines;
    const top = this.top;
    let b = this.boundary;
    while (b < top && lines[b + 1]! <= ceiling) {
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
    if (ceiling >= this.shiftAt) this.trail(ceiling);
    if (x >= this.takeProfit) return this.stopAt(this.takeProfit);
    return false;
  }

  /** Moves the price from one point of the path to the next. */
  move(from: number, to: number): boolean {
    if (this.general) return this.walkEveryCell(from, to);
    if (to < from) return this.fall(to);
    if (to > from) return this.rise(to);
    return false;
  }

  /**
   * The rest of the segment on which the trigger was reached, from T0 to `to`. The grid's orders were placed during it,
   * so none fills; the stops and trailing up still see the price. Orders the price passed stay on the wrong side of it.
   */
  startSegment(to: number): boolean {
    const b = this.boundary;
    if (to < this.startPrice) {
      if (to <= this.stopLoss) return this.stopAt(this.stopLoss);
      if (b > this.lo && this.lines[b - 1]! > to) this.enterGeneral();
    } else if (to > this.startPrice) {
      if (b < this.top && this.lines[b + 1]! < to) this.enterGeneral();
      const ceiling = to >= this.takeProfit ? this.takeProfit - 1 : to;
      if (ceiling >= this.shiftAt) this.trail(ceiling);
      if (to >= this.takeProfit) return this.stopAt(this.takeProfit);
    }
    return false;
  }

  private stopAt(price: number): boolean {
    this.stopped = true;
    this.stopPrice = price;
    return true;
  }

  private enterGeneral(): void {
    for (let c = this.lo; c < this.top; c++) this.isBase[c] = c >= this.boundary ? 1 : 0;
    this.general = true;
  }

  /** The fill model read literally: every open order the segment crosses fills, each cell at most once. */
  private walkEveryCell(from: number, to: number): boolean {
    const lines = this.lines;
    if (to < from) {
      const floor = to <= this.stopLoss ? this.stopLoss + 1 : to;
      for (let c = this.top - 1; c >= this.lo; c--) {
        if (this.isBase[c] === 0 && lines[c]! >= floor && lines[c]! <= from) this.buy(c);
      }
      if (to <= this.stopLoss) return this.stopAt(this.stopLoss);
    } else if (to > from) {
      const ceiling = to >= this.takeProfit ? this.takeProfit - 1 : to;
      for (let c = this.lo; c < this.top; c++) {
        if (this.isBase[c] === 1 && lines[c + 1]! >= from && lines[c + 1]! <= ceiling) this.sell(c);
      }
      if (ceiling >= this.shiftAt) this.trail(ceiling);
      if (to >= this.takeProfit) return this.stopAt(this.takeProfit);
    }
    this.settle(to);
    return false;
  }

  private buy(c: number): void {
    this.isBase[c] = 1;
    this.buyCount[c]!++;
    this.fromStart[c] = 0;
    this.quoteF -= this.qty[c]! * this.lines[c]! * this.buyCost;
    const got = this.gridLots[c]!;
    this.held[c] = got;
    this.heldF += got;
    this.dustF += this.gridDust[c]!;
  }

  private sell(c: number): void {
    this.isBase[c] = 0;
    const price = this.lines[c + 1]!;
    const entry = this.fromStart[c] === 1 ? this.startPrice : this.lines[c]!;
    if (this.fromStart[c] === 1) {
      this.startSold[c] = 1;
      this.fromStart[c] = 0;
    }
    this.sellCount[c]!++;
    const lots = this.held[c]!;
    this.quoteF += lots * price * this.makerKeep;
    this.profitF += lots * (price - entry);
    this.heldF -= lots;
  }

  /** Back to the boundary once quote cells lie below base cells and no order is on the wrong side of the price. */
  private settle(price: number): void {
    const lines = this.lines;
    let b = this.lo;
    for (; b < this.top && this.isBase[b] === 0; b++) if (lines[b]! > price) return;
    for (let c = b; c < this.top; c++) if (this.isBase[c] === 0 || lines[c + 1]! < price) return;
    this.general = false;
    this.boundary = b;
  }

  /**
   * Trailing up (step.ts's trailUp, on the same rules): while the price is at or above line a+N+1 and cell a holds
   * quote, cell a leaves and a new top cell of q' = floor(q_a · line a / line(a+N)) buys at line a+N. A refused
   * shift ends trailing for good.
   */
  private trail(x: number): void {
    while (x >= this.shiftAt) {
      const lo = this.lo;
      const top = this.top;
      if (this.holdsBase(lo)) return;
      const lots = shiftedLots(this.qty[lo]!, this.lines[lo]!, this.lines[top]!);
      const next = this.shiftAt;
      if (shiftRefusal(this.plan, lots, this.lines[top]!, next) !== null) {
        this.shiftAt = Number.POSITIVE_INFINITY;
        return;
      }
      if (!this.general && this.boundary !== top)
        throw new Error('engine invariant: a trailing shift came due with a sell still open');
      this.grow(top + 1);
      this.qty[top] = lots;
      if (this.buyFeeIn === 'base') {
        const net = new Dec(lots).minus(new Dec(lots).times(this.plan.makerFee));
        this.gridLots[top] = net.floor().toNumber();
        this.gridDust[top] = net.minus(net.floor()).toNumber();
      } else {
        this.gridLots[top] = lots;
        this.gridDust[top] = 0;
      }
      this.isBase[top] = 0;
      if (!this.general) this.boundary = top + 1;
      this.lo = lo + 1;
      this.top = top + 1;
      this.shifts++;
      this.lines[top + 2] = lineAt(this.plan, top + 2) ?? Number.POSITIVE_INFINITY;
      this.shiftAt = this.lines[top + 2]!;
    }
  }

  /** Room for `cells` cells and the lines up to index cells + 1. */
  private grow(cells: number): void {
    if (cells <= this.qty.length) return;
    const size = 2 * cells;
    const more = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    const f64 = (n: number) => new Float64Array(n);
    const u8 = (n: number) => new Uint8Array(n);
    this.buyCount = more(this.buyCount, f64);
    this.sellCount = more(this.sellCount, f64);
    this.held = more(this.held, f64);
    this.qty = more(this.qty, f64);
    this.gridLots = more(this.gridLots, f64);
    this.gridDust = more(this.gridDust, f64);
    this.fromStart = more(this.fromStart, u8);
    this.startSold = more(this.startSold, u8);
    this.isBase = more(this.isBase, u8);
    const lines = new Float64Array(size + 2).fill(Number.POSITIVE_INFINITY);
    lines.set(this.lines);
    this.lines = lines;
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
  const startGrid = () => new GridWalker(plan, delivery, buyFeeIn, investmentF - startCostF);

  const { open, high, low, close, openTimeMs } = candles;
  const sampleEvery = Math.max(1, Math.ceil(count / (options.samples ?? 1000)));
  const series: EquitySeries = { openTimeMs: [], equity: [], gridProfit: [] };
  let peak = investmentF;
  let maxDrawdown = 0;
  let prev = open[0]!;
  let stopAt = -1;
  let i = 0;
  let grid: GridWalker | null = null;
  let triggeredAt = -1;
  if (plan.trigger === null) grid = startGrid();
  else {
    // Waiting for T0: nothing trades and equity is the investment until a segment of the path reaches it. The grid
    // starts there; the rest of that segment and of its candle are walked by the grid.
    const t0 = plan.trigger;
    const path = [0, 0, 0, 0, 0];
    for (; i < count; i++) {
      const o = open[i]!;
      const c = close[i]!;
      path[0] = prev;
      path[1] = o;
      path[2] = c >= o ? low[i]! : high[i]!;
      path[3] = c >= o ? high[i]! : low[i]!;
      path[4] = c;
      for (let s = 0; s < 4 && grid === null; s++) {
        const a = path[s]!;
        const b = path[s + 1]!;
        if (a <= t0 ? b >= t0 : b <= t0) {
          grid = startGrid();
          triggeredAt = i;
          let stopped = grid.startSegment(b);
          for (let r = s + 1; r < 4 && !stopped; r++) stopped = grid.move(path[r]!, path[r + 1]!);
          if (stopped) stopAt = i;
        }
      }
      if (stopAt >= 0) break;
      prev = c;
      const equity = grid === null ? investmentF : grid.equityAt(c);
      if (equity > peak) peak = equity;
      else if ((peak - equity) / peak > maxDrawdown) maxDrawdown = (peak - equity) / peak;
      if (i % sampleEvery === 0) {
        series.openTimeMs.push(openTimeMs[i]!);
        series.equity.push(equity * unit);
        series.gridProfit.push(grid === null ? 0 : grid.profitF * unit);
      }
      if (grid !== null) {
        i++;
        break;
      }
    }
  }
  if (grid !== null && stopAt < 0) {
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
  }

  const lines = plan.lines;
  const qty = qtyStep.times(q);
  const endPrice = priceDec(close[count - 1]!);
  if (grid === null) {
    // The trigger was never reached: the investment was never touched.
    if ((count - 1) % sampleEvery !== 0) {
      series.openTimeMs.push(openTimeMs[count - 1]!);
      series.equity.push(investmentF * unit);
      series.gridProfit.push(0);
    }
    return {
      series,
      result: {
        candles: count,
        buys: 0,
        sells: 0,
        qtyPerGrid: decText(qty),
        startBuyQty: '0',
        baseQty: '0',
        quoteBalance: plan.investment,
        fees: '0',
        gridProfit: '0',
        netProfit: '0',
        equity: plan.investment,
        investment: plan.investment,
        startPrice: priceText(plan.startPrice),
        endPrice: decText(endPrice),
        maxDrawdownPct: 0,
        levels: lines.map(priceText),
        gapLine: plan.gapLine,
        stopped: null,
        buyFeeIn,
        trailingShifts: 0,
        finalLower: priceText(lines[0]!),
        finalUpper: priceText(lines[n]!),
        triggeredAtMs: null,
      },
    };
  }

  // Exact ledger from the counts. A cell's first sell may be of its start lots (entry P0); every other sell is of
  // what a grid buy delivered (entry its own line).
  const p0 = priceDec(plan.startPrice);
  const maker = new Dec(plan.makerFee);
  const takerD = new Dec(plan.takerFee);
  const all = grid.lines;
  let buys = 0;
  let sells = 0;
  let buysCost = new Dec(0); // sum over grid buys of q_cell x line, in lots x price
  let soldLotsValue = new Dec(0); // sum over grid sells of lots x sell price
  let soldLotsGain = new Dec(0); // sum over grid sells of lots x (sell price - entry)
  let dustLots = delivery.startDustLots;
  for (let cell = 0; cell < grid.top; cell++) {
    const bc = grid.buyCount[cell]!;
    const sc = grid.sellCount[cell]!;
    buys += bc;
    sells += sc;
    if (bc === 0 && sc === 0) continue;
    const line = priceDec(all[cell]!);
    const up = priceDec(all[cell + 1]!);
    const cellQty = grid.qty[cell]!;
    buysCost = buysCost.plus(line.times(cellQty).times(bc));
    if (cellQty === q) dustLots = dustLots.plus(delivery.gridDustLots.times(bc));
    else if (buyFeeIn === 'base' && bc > 0) {
      const net = new Dec(cellQty).minus(new Dec(cellQty).times(maker));
      dustLots = dustLots.plus(net.minus(net.floor()).times(bc));
    }
    const startSold = grid.startSold[cell]!;
    const startLots = new Dec(cell < n ? delivery.startLots[cell]! : 0).times(startSold);
    const boughtLots = new Dec(grid.gridLots[cell]!).times(sc - startSold);
    soldLotsValue = soldLotsValue.plus(up.times(startLots.plus(boughtLots)));
    soldLotsGain = soldLotsGain.plus(up.minus(p0).times(startLots)).plus(up.minus(line).times(boughtLots));
  }
  const startCost = p0.times(qty).times(startCells);
  const buysQuote = buysCost.times(qtyStep);
  const sold = soldLotsValue.times(qtyStep);
  // Every fee is reported valued in quote; only those actually paid in quote come out of the quote balance.
  const buyFees = startCost.times(takerD).plus(buysQuote.times(maker));
  let quoteFees = sold.times(maker).plus(buyFeeIn === 'quote' ? buyFees : 0);
  let fees = buyFees.plus(sold.times(maker));
  let quote = new Dec(plan.investment).minus(startCost).minus(buysQuote).plus(sold);
  let gridProfit = soldLotsGain.times(qtyStep);
  const dust = dustLots.times(qtyStep);
  let baseLots = new Dec(0);
  for (let cell = grid.lo; cell < grid.top; cell++)
    if (grid.holdsBase(cell)) baseLots = baseLots.plus(grid.held[cell]!);
  let stopped: StopOutcome | null = null;
  if (stopAt >= 0) {
    const exit = priceDec(grid.stopPrice);
    const proceeds = exit.times(qtyStep).times(baseLots);
    let exitCost = new Dec(0);
    for (let cell = grid.lo; cell < grid.top; cell++) {
      if (!grid.holdsBase(cell)) continue;
      const entry = grid.fromStart[cell] === 1 ? p0 : priceDec(all[cell]!);
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
      trailingShifts: grid.shifts,
      finalLower: priceText(all[grid.lo]!),
      finalUpper: priceText(all[grid.top]!),
      triggeredAtMs: plan.trigger === null ? null : openTimeMs[triggeredAt]!,
    },
  };
}
