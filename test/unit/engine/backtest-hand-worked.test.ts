import { describe, expect, it } from 'vitest';
import { runFastBacktest } from '../../../src/engine/backtest/fast.js';
import { type BuyFeeIn, buyDelivery } from '../../../src/engine/backtest/fees.js';
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

function bothRuns(p: GridParams, series: CandleSeries, buyFeeIn: BuyFeeIn = 'quote'): BacktestResult {
  const plan = planGrid(p, series.open[0]!);
  if (!plan.ok) throw new Error(plan.error.message);
  const fast = runFastBacktest(plan.value, series, { buyFeeIn }).result;
  const reference = runReferenceBacktest(p, series, 'bt', buyFeeIn);
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

/**
 * The same grid with buy fees taken in the base coin, as Bybit spot takes them (docs/grid-rules.md, "Buy fees in the
 * base coin"). These protect --buy-fee-in base: each figure is worked out by hand below, and the fast loop and the
 * engine driven fill by fill must both reproduce it.
 */
describe('hand-worked backtests, buy fees in base', () => {
  it('the worked example: cells sell what their buys delivered, the rest is dust counted in equity', () => {
    // q = 1.56 (156 lots of 0.01), k = 2, as before.
    // Start: buy 3.12 at 160: quote pays 499.2 only; fee 3.12 x 0.001 = 0.00312 base (valued 0.4992 at 160).
    //   Delivered 3.11688: 3.11 in whole steps (cell 2 takes 1.56, cell 3 the remaining 1.55), dust 0.00688.
    // A grid buy of 1.56 pays 0.00156 base: delivers 1.55844, so its cell sells 1.55, dust 0.00844.
    // Candle 1, path 160→180→120→130:
    //   sell 1.56 at 175 (cell 2, from start): 273, fee 0.273, profit 1.56 x 15 = 23.4; buy at 150 placed.
    //   buys at 150 (234, fee valued 0.234) and 125 (195, fee valued 0.195): cells 2 and 1 each hold 1.55.
    //   Close 130: quote 1000 - 499.2 + 273 - 0.273 - 234 - 195 = 344.527; base 1.55 x 3 + dust 0.00688 + 0.01688
    //   = 4.67376, x 130 = 607.5888; equity 952.1158: drawdown 4.78842 %.
    // Candle 2, path 130→95→210→205:
    //   buy at 100 (156, fee valued 0.156), then sells of 1.55 at 125, 150, 175 (profit 1.55 x 25 = 38.75 each) and
    //   cell 3's 1.55 from start at 200 (profit 1.55 x 40 = 62): 193.75 + 232.5 + 271.25 + 310 = 1007.5 for the
    //   four, fees 1.0075 in quote.
    // Grid profit 23.4 + 3 x 38.75 + 62 = 201.65. Fees 0.4992 + (0.234 + 0.195 + 0.156) + (0.273 + 1.0075) = 2.3647.
    // Quote 1000 - 499.2 - 585 + 1280.5 - 1.2805 = 1195.0195 (only the sells' fees were paid in quote).
    // Base: no cell holds any; dust 0.00688 + 3 x 0.00844 = 0.0322, worth 6.601 at 205: equity 1201.6205.
    const r = bothRuns(
      params(),
      candles([
        ['160', '180', '120', '130'],
        ['130', '210', '95', '205'],
      ]),
      'base',
    );
    expect(r).toMatchObject({
      buyFeeIn: 'base',
      qtyPerGrid: '1.56',
      startBuyQty: '3.12',
      buys: 3,
      sells: 5,
      gridProfit: '201.65',
      fees: '2.3647',
      netProfit: '199.2853',
      quoteBalance: '1195.0195',
      baseQty: '0.0322',
      equity: '1201.6205',
      stopped: null,
    });
    expect(r.maxDrawdownPct).toBeCloseTo(4.78842, 10);
  });

  it('a stop-loss sells the whole steps the cells hold and keeps the dust', () => {
    // Start as above: cells 2 and 3 hold 1.56 and 1.55 from 160, dust 0.00688, quote 500.8, fee 0.4992.
    // Candle (160, 165, 105, 108): the buy at 125 fills (195, fee 0.00156 base valued 0.195): cell 1 holds 1.55,
    // dust 0.01532. At 110 the grid sells what its cells hold, 1.55 + 1.56 + 1.55 = 4.66: 512.6, taker fee 0.5126. Profit 1.55 x (110 - 125) + 1.56 x (110 - 160) + 1.55 x (110 - 160) = -23.25 - 78 - 77.5 = -178.75.
    // Fees 0.4992 + 0.195 + 0.5126 = 1.2068. Quote 500.8 - 195 + 512.6 - 0.5126 = 817.8874.
    // The dust stays: 0.01532, worth 1.65456 at the stop candle's close 108 (equity 819.54196, drawdown 18.045804 %)
    // and 3.064 at the last close 200 (equity 820.9514).
    const r = bothRuns(
      params({ stopLoss: '110' }),
      candles([
        ['160', '165', '105', '108'],
        ['108', '300', '100', '200'],
      ]),
      'base',
    );
    expect(r).toMatchObject({
      buys: 1,
      sells: 0,
      gridProfit: '-178.75',
      fees: '1.2068',
      netProfit: '-179.9568',
      quoteBalance: '817.8874',
      baseQty: '0.01532',
      equity: '820.9514',
      stopped: { reason: 'stop-loss', price: '110', candleIndex: 0 },
    });
    expect(r.maxDrawdownPct).toBeCloseTo(18.045804, 10);
  });

  it('refuses a grid whose cells would be left with nothing to sell', () => {
    // Investment 6.4: q = 6.4 / 4 / 160 = 0.01, one step; a buy delivers 0.00999, no whole step to sell.
    const tiny = planGrid(params({ investment: '6.4' }), candles([['160', '160', '160', '160']]).open[0]!);
    if (!tiny.ok) throw new Error(tiny.error.message);
    expect(buyDelivery(tiny.value, 'quote').ok).toBe(true);
    expect(buyDelivery(tiny.value, 'base')).toEqual({
      ok: false,
      error:
        'with buy fees in base, a grid buy of 0.01 less its fee (0.00001) leaves less than one quantity step 0.01 to sell; invest more per grid',
    });
    // Taker 50 %: the start buy of 3.12 delivers 1.56, all to cell 2; cell 3 gets nothing.
    const greedy = planGrid(params({ takerFee: '0.5' }), candles([['160', '160', '160', '160']]).open[0]!);
    if (!greedy.ok) throw new Error(greedy.error.message);
    expect(buyDelivery(greedy.value, 'base')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/line 3/),
    });
    expect(() =>
      runReferenceBacktest(
        params({ takerFee: '0.5' }),
        candles([['160', '160', '160', '160']]),
        'bt',
        'base',
      ),
    ).toThrow(/nothing to sell/);
  });
});

/**
 * Trailing up (docs/grid-rules.md, "Trailing up") on the same grid: lines 100, 125, 150, 175, 200 and past U the same
 * rule, 225, 250, 275, 300, 325. At P0 = 160: q = 1.56, k = 2; the start buys 3.12 at 160 (499.2, fee 0.4992), buys
 * rest at 100 and 125, sells at 175 and 200. A rise to 175 and 200 sells both start cells: +273 and +312 (fees 0.273
 * and 0.312), profit 1.56 x 15 + 1.56 x 40 = 85.8; quote 1000 - 499.2 - 0.4992 + 585 - 0.585 = 1084.7158.
 */
describe('hand-worked backtests, trailing up', () => {
  const trailing = (extra: Partial<GridParams> = {}) => params({ trailingUp: true, ...extra });

  it('a shift: the lowest buy is cancelled and its quote funds a new top cell', () => {
    // Candle 1 (160, 230, 160, 230), path 160→160→230→230. The rise sells at 175 and 200 (cells 2 and 3 now buy at
    // 150 and 175), then reaches line 5 = 225 while cell 0's buy at 100 is open: shift. R = 1.56 x 100 = 156 funds
    // cell 4, which buys q' = floor(156 / 200) = 0.78 at 200. The window is 125..225; line 6 = 250 is not reached.
    // Candle 2 (230, 230, 170, 215), path 230→230→170→215: the fall fills the new buy at 200 (156, fee 0.156) and
    // cell 3's buy at 175 (273, fee 0.273); the rise to 215 fills cell 3's sell at 200 (312, fee 0.312, profit 39),
    // not cell 4's at 225. Quote 1084.7158 - 156.156 - 273.273 + 311.688 = 966.9748; cell 4 holds 0.78 (x 215 =
    // 167.7). Profit 85.8 + 39 = 124.8; fees 0.4992 + 0.585 + 0.156 + 0.273 + 0.312 = 1.8252.
    const r = bothRuns(
      trailing(),
      candles([
        ['160', '230', '160', '230'],
        ['230', '230', '170', '215'],
      ]),
    );
    expect(r).toMatchObject({
      levels: ['100', '125', '150', '175', '200'],
      trailingShifts: 1,
      finalLower: '125',
      finalUpper: '225',
      buys: 2,
      sells: 3,
      gridProfit: '124.8',
      fees: '1.8252',
      netProfit: '122.9748',
      quoteBalance: '966.9748',
      baseQty: '0.78',
      equity: '1134.6748',
      maxDrawdownPct: 0,
      triggeredAtMs: null,
    });
  });

  it('several shifts in one candle, one per line, each cell its own quantity', () => {
    // Candle 1 (160, 290, 160, 290): after the two sells the rise to 290 passes lines 225, 250 and 275:
    //   225: cell 0 (1.56 at 100, R = 156) leaves; cell 4 buys floor(156 / 200) = 0.78 at 200.
    //   250: cell 1 (1.56 at 125, R = 195) leaves; cell 5 buys floor(195 / 225 = 0.866..) = 0.86 at 225 (1.5 stays).
    //   275: cell 2 (1.56 at 150, R = 234) leaves; cell 6 buys floor(234 / 250 = 0.936) = 0.93 at 250 (1.5 stays).
    //   300 is not reached: window 175..275, three shifts.
    // Candle 2 (290, 290, 240, 280), path 290→290→240→280: the fall fills cell 6's buy at 250 (232.5, fee 0.2325),
    // the rise its sell at 275 (255.75, fee 0.25575, profit 0.93 x 25 = 23.25); 280 is below line 8 = 300.
    // Quote 1084.7158 - 232.7325 + 255.49425 = 1107.47755; profit 85.8 + 23.25 = 109.05;
    // fees 0.4992 + 0.585 + 0.2325 + 0.25575 = 1.57245.
    const r = bothRuns(
      trailing(),
      candles([
        ['160', '290', '160', '290'],
        ['290', '290', '240', '280'],
      ]),
    );
    expect(r).toMatchObject({
      trailingShifts: 3,
      finalLower: '175',
      finalUpper: '275',
      buys: 1,
      sells: 3,
      gridProfit: '109.05',
      fees: '1.57245',
      netProfit: '107.47755',
      quoteBalance: '1107.47755',
      baseQty: '0',
      equity: '1107.47755',
      maxDrawdownPct: 0,
    });
  });

  it('the cap: no shift would put the top line above it, and trailing ends for good', () => {
    // Cap 260. Candle 1 as above: shifts at 225 (top line 225) and 250 (top line 250); at 275 the new top line would be
    // 275 > 260: no shift, trailing ends. Window 150..250: cells 2 (buy 150), 3 (175), 4 (0.78 at 200), 5 (0.86 at 225).
    // Candle 2 (290, 290, 215, 280): the fall fills cell 5's buy at 225 (193.5, fee 0.1935); the rise fills its sell
    // at 250 (215, fee 0.215, profit 0.86 x 25 = 21.5) and passes 275 with cell 2's buy open: no shift, trailing is over.
    // Quote 1084.7158 - 193.6935 + 214.785 = 1105.8073; profit 85.8 + 21.5 = 107.3;
    // fees 0.4992 + 0.585 + 0.1935 + 0.215 = 1.4927.
    const r = bothRuns(
      trailing({ trailingCap: '260' }),
      candles([
        ['160', '290', '160', '290'],
        ['290', '290', '215', '280'],
      ]),
    );
    expect(r).toMatchObject({
      trailingShifts: 2,
      finalLower: '150',
      finalUpper: '250',
      buys: 1,
      sells: 3,
      gridProfit: '107.3',
      fees: '1.4927',
      netProfit: '105.8073',
      quoteBalance: '1105.8073',
      equity: '1105.8073',
    });
  });

  it('the minimum quantity: a shift whose new cell would buy too little ends trailing for good', () => {
    // Minimum quantity 0.55 (q = 1.56 meets it). Candle 1 (160, 330, 160, 330): after the two sells, shifts at
    //   225: cell 0 (1.56 at 100) → cell 4 buys floor(156 / 200) = 0.78 at 200;
    //   250: cell 1 (1.56 at 125) → cell 5 buys floor(195 / 225) = 0.86 at 225;
    //   275: cell 2 (1.56 at 150) → cell 6 buys floor(234 / 250) = 0.93 at 250;
    //   300: cell 3 (1.56 at 175, its buy since the sell at 200) → cell 7 buys floor(273 / 275 = 0.9927) = 0.99 at 275;
    //   325: cell 4 (0.78 at 200, R = 156) would fund cell 8 with floor(156 / 300) = 0.52 < 0.55: refused, trailing ends.
    // Window 200..300 after four shifts. Candle 2 (330, 330, 270, 320): the fall fills cell 7's buy at 275 (272.25,
    // fee 0.27225), the rise its sell at 300 (297, fee 0.297, profit 0.99 x 25 = 24.75). Candle 3 rises to 340, past
    // 325 with cell 4's buy open: no shift, trailing is over.
    // Quote 1084.7158 - 272.52225 + 296.703 = 1108.89655; profit 85.8 + 24.75 = 110.55;
    // fees 0.4992 + 0.585 + 0.27225 + 0.297 = 1.65345.
    const r = bothRuns(
      trailing({ instrument: { tickSize: '1', qtyStep: '0.01', minQty: '0.55', minValue: '1' } }),
      candles([
        ['160', '330', '160', '330'],
        ['330', '330', '270', '320'],
        ['320', '340', '320', '340'],
      ]),
    );
    expect(r).toMatchObject({
      trailingShifts: 4,
      finalLower: '200',
      finalUpper: '300',
      buys: 1,
      sells: 3,
      gridProfit: '110.55',
      fees: '1.65345',
      netProfit: '108.89655',
      quoteBalance: '1108.89655',
      equity: '1108.89655',
    });
  });

  it('without trailing the same candles shift nothing and the window stays', () => {
    const r = bothRuns(
      params(),
      candles([
        ['160', '290', '160', '290'],
        ['290', '290', '240', '280'],
      ]),
    );
    expect(r).toMatchObject({ trailingShifts: 0, finalLower: '100', finalUpper: '200', buys: 0, sells: 2 });
  });
});

/**
 * Trigger prices (docs/grid-rules.md, "Trigger price"): T0 = 150 on the same grid. Planned at P0 = 150: q = 1000 / 4
 * / 150 = 1.666.. → 1.66, k = 2 (150 is line 2): buys at 100 and 125, the start buy 3.32 at 150 (498, fee 0.498,
 * quote left 501.502), sells at 175 and 200. Candle 2 opens at 2025-01-01T00:01Z = 1735689660000.
 */
describe('hand-worked backtests, trigger price', () => {
  const CANDLE_2 = Date.UTC(2025, 0, 1) + 60_000;

  it('reached from above: the grid starts at T0 and its orders cannot fill on the rest of that segment', () => {
    // Candle 1 (180, 185, 170, 172) stays above 150: waiting, equity 1000.
    // Candle 2 (172, 176, 120, 130), path 172→176→120→130: the fall reaches 150, the grid starts there; the rest of
    // the fall, 150→120, passes the new buy at 125 without filling it (placed during the segment). 120→130 rises.
    // Close 130: 501.502 + 3.32 x 130 = 933.102: drawdown 6.6898 %.
    // Candle 3 (130, 135, 110, 112), path 130→135→110→112: the fall fills the buy at 125 (207.5, fee 0.2075).
    // Quote 501.502 - 207.7075 = 293.7945; base 3.32 + 1.66 = 4.98 (x 112 = 557.76): equity 851.5545, drawdown
    // 14.84455 %. Fees 0.498 + 0.2075 = 0.7055.
    const r = bothRuns(
      params({ trigger: '150' }),
      candles([
        ['180', '185', '170', '172'],
        ['172', '176', '120', '130'],
        ['130', '135', '110', '112'],
      ]),
    );
    expect(r).toMatchObject({
      triggeredAtMs: CANDLE_2,
      startPrice: '150',
      qtyPerGrid: '1.66',
      startBuyQty: '3.32',
      gapLine: 2,
      buys: 1,
      sells: 0,
      gridProfit: '0',
      fees: '0.7055',
      netProfit: '-0.7055',
      quoteBalance: '293.7945',
      baseQty: '4.98',
      equity: '851.5545',
    });
    expect(r.maxDrawdownPct).toBeCloseTo(14.84455, 10);
  });

  it('reached from below: the sell the rest of the segment passed waits until the price comes back to it', () => {
    // Candle 1 (110, 140, 105, 130) stays below 150: waiting.
    // Candle 2 (130, 180, 128, 178), path 130→128→180→178: the rise reaches 150, the grid starts there; the rest of
    // the rise, 150→180, passes the new sell at 175 without filling it. 180→178 falls (no buy there); the sell at
    // 175 is still below the price. Close 178: 501.502 + 3.32 x 178 = 1092.462.
    // Candle 3 (178, 190, 170, 185), path 178→170→190→185: the fall to 170 brings the price below the sell, the rise
    // fills it: 1.66 x 175 = 290.5, fee 0.2905, profit 1.66 x 25 = 41.5. Cell 2 buys at 150 again.
    // Quote 501.502 + 290.5 - 0.2905 = 791.7115; cell 3 holds 1.66 (x 185 = 307.1): equity 1098.8115.
    const r = bothRuns(
      params({ trigger: '150' }),
      candles([
        ['110', '140', '105', '130'],
        ['130', '180', '128', '178'],
        ['178', '190', '170', '185'],
      ]),
    );
    expect(r).toMatchObject({
      triggeredAtMs: CANDLE_2,
      startBuyQty: '3.32',
      buys: 0,
      sells: 1,
      gridProfit: '41.5',
      fees: '0.7885',
      netProfit: '40.7115',
      quoteBalance: '791.7115',
      baseQty: '1.66',
      equity: '1098.8115',
      maxDrawdownPct: 0,
    });
  });

  it('never reached: the figures are those of the untouched investment', () => {
    const r = bothRuns(
      params({ trigger: '150' }),
      candles([
        ['180', '190', '170', '185'],
        ['185', '195', '160', '190'],
      ]),
    );
    expect(r).toMatchObject({
      triggeredAtMs: null,
      startPrice: '150',
      qtyPerGrid: '1.66',
      startBuyQty: '0',
      buys: 0,
      sells: 0,
      gridProfit: '0',
      fees: '0',
      netProfit: '0',
      quoteBalance: '1000',
      baseQty: '0',
      equity: '1000',
      endPrice: '190',
      maxDrawdownPct: 0,
      stopped: null,
    });
  });

  it('a first price equal to the trigger starts at once: the first worked example, figure for figure', () => {
    const rows = [
      ['160', '180', '120', '130'],
      ['130', '210', '95', '205'],
    ] as const;
    const plain = bothRuns(params(), candles(rows));
    const r = bothRuns(params({ trigger: '160' }), candles(rows));
    expect(r).toEqual({ ...plain, triggeredAtMs: Date.UTC(2025, 0, 1) });
  });

  it('a stop-loss or take-profit must lie on either side of the trigger, not of the first price', () => {
    const at = (extra: Partial<GridParams>) =>
      planGrid(params(extra), candles([['180', '180', '180', '180']]).open[0]!);
    expect(at({ trigger: '150', stopLoss: '160' })).toMatchObject({
      ok: false,
      error: { message: 'stop-loss 160 must be below the trigger price 150' },
    });
    expect(at({ trigger: '150', takeProfit: '150' })).toMatchObject({
      ok: false,
      error: { message: 'take-profit 150 must be above the trigger price 150' },
    });
    expect(at({ trigger: '150', stopLoss: '140', takeProfit: '170' })).toMatchObject({
      ok: true,
      value: { startPrice: 15_000_000_000, trigger: 15_000_000_000 },
    });
  });
});
