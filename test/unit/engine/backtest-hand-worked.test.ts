import { describe, expect, it } from 'vitest';
import { runFastBacktest } from '../../../src/engine/backtest/fast.js';
import { runReferenceBacktest } from '../../../src/engine/backtest/reference.js';
import type { BacktestResult } from '../../../src/engine/backtest/result.js';
import type { CandleSeries } from '../../../src/engine/candles.js';
import type { GridParams } from '../../../src/engine/grid/params.js';
import { planGrid } from '../../../src/engine/grid/plan.js';
import { candles } from '../../support/candles.js';
import { handGrid } from '../../support/grids.js';
import { expectSameResult } from '../../support/results.js';

/**
 * Grids small enough to work out with pencil and paper. Lines 100, 125, 150, 175, 200 (L=100, U=200, N=4),
 * tick 1, quantity step 0.01, fees 0.1% maker and taker, investment 1000. Every expected figure below is derived in
 * the comments; both the backtester's loop and the general engine driven through the paper matching model must
 * reproduce them exactly.
 */
const params = handGrid;

function bothRuns(p: GridParams, series: CandleSeries): BacktestResult {
  const plan = planGrid(p, series.open[0]!);
  if (!plan.ok) throw new Error(plan.error.message);
  const fast = runFastBacktest(plan.value, series).result;
  const reference = runReferenceBacktest(p, series);
  expectSameResult(reference, fast);
  return fast;
}

describe('hand-worked backtests', () => {
  it('a candle crossing several lines both ways', () => {
    // P0 = 160: q = 1000 / 4 / 160 = 1.5625 → 1.56. Nearest line 150 (10 away; 175 is 15) → k = 2.
    // Start: buys at 100 and 125; cells 2 and 3 hold 3.12 bought at 160 = 499.2, taker fee 0.4992.
    // Candle 1 (160, 180, 120, 130), close < open → path 160→180→120→130:
    //   160→180: sell of cell 2 at 175 (profit 1.56 x 15 = 23.4); cell 2 places a buy at 150.
    //   180→120: buy at 150 (placed on the segment before, so it may fill now), then buy at 125.
    //   120→130: sells rest at 150, 175, 200: nothing.
    //   Close 130: quote 500.3008 + 273 - 0.273 - 234 - 0.234 - 195 - 0.195 = 343.5988, base 4.68 x 130 = 608.4,
    //   equity 951.9988: drawdown (1000 - 951.9988) / 1000 = 4.80012 %.
    // Candle 2 (130, 210, 95, 205), close ≥ open → path 130→95→210→205:
    //   130→95: buy at 100 (cell 0).
    //   95→210: sells at 125 (cell 0, +39), 150 (cell 1, +39), 175 (cell 2, +39), 200 (cell 3, entry P0: +62.4).
    //   210→205: buys at 100..175 were just placed; none is in [205, 210].
    // Profit 23.4 + 3 x 39 + 62.4 = 202.8. Fees: start 0.4992 + buys (234 + 195 + 156) x 0.001
    // + sells (273 + 195 + 234 + 273 + 312) x 0.001 = 0.4992 + 0.585 + 1.287 = 2.3712.
    const r = bothRuns(
      params(),
      candles([
        ['160', '180', '120', '130'],
        ['130', '210', '95', '205'],
      ]),
    );
    expect(r).toMatchObject({
      candles: 2,
      levels: ['100', '125', '150', '175', '200'],
      gapLine: 2,
      qtyPerGrid: '1.56',
      startBuyQty: '3.12',
      buys: 3,
      sells: 5,
      gridProfit: '202.8',
      fees: '2.3712',
      netProfit: '200.4288',
      quoteBalance: '1200.4288',
      baseQty: '0',
      equity: '1200.4288',
      startPrice: '160',
      endPrice: '205',

      stopped: null,
    });
    expect(r.maxDrawdownPct).toBeCloseTo(4.80012, 10);
  });

  it('a start price exactly between two lines takes the lower one as the gap line', () => {
    // P0 = 137.5 is 12.5 from both 125 and 150 → k = 1 (the lower index). q = 1000 / 4 / 137.5 = 1.8181.. → 1.81.
    // Cells 1..3 hold base: 5.43 x 137.5 = 746.625, fee 0.746625. Sells at 150, 175, 200; a buy at 100.
    // Candle (137.5, 150, 137.5, 150) rises to 150: the sell of cell 1 fills: 271.5, fee 0.2715, profit
    // 1.81 x (150 - 137.5) = 22.625. Had the tie gone up (k = 2) there would be no sell at 150 at all.
    const r = bothRuns(params(), candles([['137.5', '150', '137.5', '150']]));
    expect(r).toMatchObject({
      gapLine: 1,
      qtyPerGrid: '1.81',
      startBuyQty: '5.43',
      buys: 0,
      sells: 1,
      gridProfit: '22.625',
      fees: '1.018125',
      quoteBalance: '523.856875',
      baseQty: '3.62',
      equity: '1066.856875', // 523.856875 + 3.62 x 150
      netProfit: '21.606875',
      maxDrawdownPct: 0,
    });
  });

  it('a stop-loss fills the buys above it, then sells everything at the stop and stops', () => {
    // P0 = 160, k = 2 as in the first case; stop-loss 110.
    // Candle (160, 165, 105, 108), close < open → 160→165→105→108. 160→165: nothing. 165→105 reaches 110:
    // the buy at 125 fills first (fee 0.195), then the grid sells its 4.68 base at 110 = 514.8 (taker fee 0.5148).
    // Profit: 1.56 x (110 - 125) + 3.12 x (110 - 160) = -23.4 - 156 = -179.4.
    // Fees 0.4992 + 0.195 + 0.5148 = 1.209. Quote 1000 - 499.2 - 195 + 514.8 - 1.209 = 819.391.
    // The second candle trades nothing: the grid has stopped.
    const r = bothRuns(
      params({ stopLoss: '110' }),
      candles([
        ['160', '165', '105', '108'],
        ['108', '300', '100', '200'],
      ]),
    );
    expect(r).toMatchObject({
      buys: 1,
      sells: 0,
      gridProfit: '-179.4',
      fees: '1.209',
      quoteBalance: '819.391',
      baseQty: '0',
      equity: '819.391',
      netProfit: '-180.609',
      endPrice: '200',

      stopped: { reason: 'stop-loss', price: '110', candleIndex: 0 },
    });
    expect(r.maxDrawdownPct).toBeCloseTo(18.0609, 10);
  });

  it('a buy exactly at the stop-loss does not fill', () => {
    // Stop-loss 125 = the buy line of cell 1. Falling to 105: no buy above 125 is open, the buy at 125 does not fill.
    // Exit: 3.12 x 125 = 390, fee 0.39; profit 3.12 x (125 - 160) = -109.2; fees 0.4992 + 0.39 = 0.8892.
    const r = bothRuns(params({ stopLoss: '125' }), candles([['160', '165', '105', '108']]));
    expect(r).toMatchObject({
      buys: 0,
      gridProfit: '-109.2',
      fees: '0.8892',
      quoteBalance: '889.9108',
      netProfit: '-110.0892',
      stopped: { reason: 'stop-loss', price: '125' },
    });
  });

  it('a take-profit fills the sells below it, then sells the rest at the take-profit', () => {
    // Take-profit 180. Candle (160, 190, 158, 185), close ≥ open → 160→158→190→185. 160→158: no buy at or above 158.
    // 158→190 reaches 180: the sell at 175 fills first (273, fee 0.273, profit 23.4); then cell 3's 1.56 base goes
    // at 180 = 280.8 (taker fee 0.2808, profit 1.56 x 20 = 31.2). Profit 54.6; fees 0.4992 + 0.273 + 0.2808 = 1.053.
    const r = bothRuns(params({ takeProfit: '180' }), candles([['160', '190', '158', '185']]));
    expect(r).toMatchObject({
      buys: 0,
      sells: 1,
      gridProfit: '54.6',
      fees: '1.053',
      quoteBalance: '1053.547',
      equity: '1053.547',
      netProfit: '53.547',
      stopped: { reason: 'take-profit', price: '180', candleIndex: 0 },
    });
  });

  it('the gap from one close to the next open is a segment of the path', () => {
    // Candle 1 stays at 160. Candle 2 opens at 120: 160→120 fills the buy at 125 (not at 100: the path never got
    // there), even though candle 2 itself only moves between 120 and 122.
    const r = bothRuns(
      params(),
      candles([
        ['160', '160', '160', '160'],
        ['120', '122', '120', '121'],
      ]),
    );
    expect(r).toMatchObject({ buys: 1, sells: 0 });
  });
});
