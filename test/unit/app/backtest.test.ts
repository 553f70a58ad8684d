import { describe, expect, it } from 'vitest';
import {
  type ArgProblem,
  type BacktestArgs,
  Backtests,
  backtestArgs,
  DAY_MS,
  parseBacktestArgs,
} from '../../../src/app/backtest.js';
import { type CandleQuery, CandlesUnavailable } from '../../../src/app/ports/candles.js';
import { runFastBacktest } from '../../../src/engine/backtest/fast.js';
import type { CandleSeries } from '../../../src/engine/candles.js';
import { planGrid } from '../../../src/engine/grid/plan.js';
import { candles } from '../../support/candles.js';
import { handGrid } from '../../support/grids.js';

/** Says every problem with its kind and field, so a test sees which rule spoke. */
const plain = (p: ArgProblem) => ('field' in p ? `${p.kind} ${p.field}` : p.kind);
const Args = backtestArgs(plain, ['1', '5']);
const parse = (values: Record<string, unknown>) => parseBacktestArgs(Args, plain, values);
const GRID = { lower: '100', upper: '200', grids: '4', investment: '1000' };

/** The hand-worked stop-loss path of test/unit/engine/backtest-hand-worked.test.ts. */
const SERIES = candles([
  ['160', '165', '105', '108'],
  ['108', '300', '100', '200'],
]);

/** Candles by query, in memory: what the store or a file would give, and what each was asked for. */
function source(series: CandleSeries | null) {
  const asked: CandleQuery[] = [];
  return {
    asked,
    async load(query: CandleQuery): Promise<CandleSeries> {
      asked.push(query);
      if (!series) throw new CandlesUnavailable('no BTCUSDT 1 candles stored; fetch them');
      return series;
    },
  };
}

function args(values: Record<string, unknown>): BacktestArgs {
  const r = parse(values);
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

describe('the backtest arguments: one schema for every surface', () => {
  it('names every problem, the sources first, then each argument in order', () => {
    expect(parse({ grids: '1', lower: '1e3', fee: '-1' })).toEqual({
      ok: false,
      error: {
        kind: 'usage',
        problems: [
          'no-source',
          'decimal lower',
          'required upper',
          'range grids',
          'required investment',
          'decimal fee',
        ],
      },
    });
    expect(parse({ data: 'a.csv', symbol: 'btcusdt', ...GRID })).toMatchObject({
      error: { problems: ['both-sources'] },
    });
    expect(parse({ data: 'a.csv', from: '2025-01-01', interval: '5', ...GRID })).toMatchObject({
      error: { problems: ['window-with-file'] },
    });
    expect(parse({ symbol: 'BTCUSDT', to: '2025-01-01', ...GRID })).toMatchObject({
      error: { problems: ['needs-dates'] },
    });
    expect(parse({ symbol: 'BTCUSDT', days: '3', from: '2025-01-01', ...GRID })).toMatchObject({
      error: { problems: ['days-and-dates'] },
    });
    expect(
      parse({
        symbol: 'BTC/USDT',
        from: '2025-02-30',
        to: '2025-1-1',
        interval: '2',
        ...GRID,
        days: undefined,
      }),
    ).toMatchObject({
      error: { problems: ['symbol symbol', 'calendar from', 'date to', 'choice interval'] },
    });
    expect(parse({ symbol: 'BTCUSDT', days: '366', ...GRID, grids: '99999999999999999999' })).toMatchObject({
      error: { problems: ['unsafe grids', 'range grids', 'range days'] },
    });
  });

  it('reads a symbol in any case, whole numbers, and fills the defaults', () => {
    expect(args({ symbol: 'btcusdt', days: '7', ...GRID })).toEqual({
      symbol: 'BTCUSDT',
      days: 7,
      lower: '100',
      upper: '200',
      grids: 4,
      investment: '1000',
      mode: 'arithmetic',
      fee: '0.001',
      'taker-fee': '0.001',
      tick: '0.01',
      'qty-step': '0.000001',
      'min-qty': '0.000048',
      'min-value': '1',
      'buy-fee-in': 'quote',
    });
  });
});

describe('the backtest request', () => {
  const NOW = Date.UTC(2025, 5, 10, 12, 0);

  it('reads the last days up to now, whole UTC days from..to, or a file', () => {
    const backtests = new Backtests({ candles: source(null), nowMs: () => NOW });
    const days = backtests.request(args({ symbol: 'BTCUSDT', days: '7', ...GRID }), plain);
    expect(days.ok && days.value.candles).toEqual({
      kind: 'store',
      symbol: 'BTCUSDT',
      interval: '1',
      fromMs: NOW - 7 * DAY_MS,
      toMs: NOW,
    });
    const dates = backtests.request(
      args({ symbol: 'BTCUSDT', from: '2025-06-01', to: '2025-06-01', interval: '5', ...GRID }),
      plain,
    );
    expect(dates.ok && dates.value.candles).toEqual({
      kind: 'store',
      symbol: 'BTCUSDT',
      interval: '5',
      fromMs: Date.UTC(2025, 5, 1),
      toMs: Date.UTC(2025, 5, 2),
    });
    const file = backtests.request(args({ data: 'june.csv', ...GRID, 'stop-loss': '110' }), plain);
    expect(file.ok && file.value).toEqual({
      candles: { kind: 'file', path: 'june.csv' },
      buyFeeIn: 'quote',
      params: {
        lower: '100',
        upper: '200',
        grids: 4,
        mode: 'arithmetic',
        investment: '1000',
        makerFee: '0.001',
        takerFee: '0.001',
        instrument: { tickSize: '0.01', qtyStep: '0.000001', minQty: '0.000048', minValue: '1' },
        stopLoss: '110',
        takeProfit: undefined,
      },
    });
    expect(
      backtests.request(args({ symbol: 'BTCUSDT', from: '2025-06-02', to: '2025-06-01', ...GRID }), plain),
    ).toEqual({ ok: false, error: { kind: 'usage', problems: ['from-after-to'] } });
  });

  it("beside trading, takes the exchange's filters for a symbol and refuses one not traded", () => {
    const traded = { ...handGrid().instrument, symbol: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT' };
    const backtests = new Backtests({
      candles: source(null),
      instrument: (s) => (s === 'BTCUSDT' ? traded : undefined),
    });
    const ok = backtests.request(args({ symbol: 'BTCUSDT', days: '1', ...GRID, tick: '5' }), plain);
    expect(ok.ok && ok.value.params.instrument).toBe(traded);
    expect(backtests.request(args({ symbol: 'DOGEUSDT', days: '1', ...GRID }), plain)).toEqual({
      ok: false,
      error: { kind: 'invalid', message: 'unknown symbol DOGEUSDT' },
    });
  });
});

describe('the backtest run', () => {
  const request = (values: Record<string, unknown>) => {
    const r = new Backtests({ candles: source(null) }).request(args(values), plain);
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    return r.value;
  };
  const hand = {
    data: 'hand.csv',
    ...GRID,
    tick: '1',
    'qty-step': '0.01',
    'min-qty': '0.01',
    'stop-loss': '110',
  };

  it('plans at the first open and walks the fill model: the figures of the engine run directly', async () => {
    const candles = source(SERIES);
    const run = await new Backtests({ candles }).run(request(hand));
    expect(candles.asked).toEqual([{ kind: 'file', path: 'hand.csv' }]);
    const plan = planGrid(request(hand).params, SERIES.open[0]!);
    if (!plan.ok || !run.ok) throw new Error('the hand-worked grid plans');
    expect(run.value).toEqual(runFastBacktest(plan.value, SERIES));
    expect(run.value.result).toMatchObject({ gridProfit: '-179.4', fees: '1.209', equity: '819.391' });
    const base = await new Backtests({ candles }).run(request({ ...hand, 'buy-fee-in': 'base' }));
    expect(base.ok && base.value.result).toMatchObject({ buyFeeIn: 'base', equity: '820.9514' });
  });

  it('says what is missing, what cannot be planned, and what buy fees in base would leave', async () => {
    expect(await new Backtests({ candles: source(null) }).run(request(hand))).toEqual({
      ok: false,
      error: { kind: 'no-candles', message: 'no BTCUSDT 1 candles stored; fetch them' },
    });
    const backtests = new Backtests({ candles: source(SERIES) });
    expect(await backtests.run(request({ ...hand, lower: '200', upper: '100' }))).toEqual({
      ok: false,
      error: { kind: 'invalid', message: 'lower 200 must be below upper 100' },
    });
    const dust = await backtests.run(
      request({ ...hand, investment: '8', 'min-value': '0.01', 'buy-fee-in': 'base' }),
    );
    expect(dust).toEqual({
      ok: false,
      error: {
        kind: 'invalid',
        message:
          'with buy fees in base, a grid buy of 0.01 less its fee (0.00001) leaves less than one quantity step 0.01 to sell; invest more per grid',
      },
    });
  });

  it('lets an unexpected failure of the source through: the environment, not the user', async () => {
    const broken = { load: () => Promise.reject(new Error('connection refused')) };
    await expect(new Backtests({ candles: broken }).run(request(hand))).rejects.toThrow('connection refused');
  });
});

describe('trailing up and trigger prices through the one schema', () => {
  const hand = { data: 'hand.csv', ...GRID, tick: '1', 'qty-step': '0.01', 'min-qty': '0.01' };
  const backtests = (series: CandleSeries) => new Backtests({ candles: source(series) });

  it('reads the switch, the cap and the trigger into the grid', () => {
    const r = new Backtests({ candles: source(null) }).request(
      args({ ...hand, 'trailing-up': true, 'trailing-cap': '260', trigger: '150' }),
      plain,
    );
    expect(r.ok && r.value.params).toMatchObject({ trailingUp: true, trailingCap: '260', trigger: '150' });
    const none = new Backtests({ candles: source(null) }).request(args(hand), plain);
    expect(none.ok && Object.keys(none.value.params)).not.toContain('trailingUp');
    expect(parse({ ...hand, 'trailing-up': 'yes', 'trailing-cap': '2.6e2', trigger: '-1' })).toMatchObject({
      error: { problems: ['switch trailing-up', 'decimal trailing-cap', 'decimal trigger'] },
    });
  });

  it('runs them: the hand-worked shift, and a trigger that is never reached', async () => {
    // The first hand-worked trailing case of test/unit/engine/backtest-hand-worked.test.ts.
    const shift = candles([
      ['160', '230', '160', '230'],
      ['230', '230', '170', '215'],
    ]);
    const run = await backtests(shift).run(request({ ...hand, 'trailing-up': true }));
    expect(run.ok && run.value.result).toMatchObject({
      trailingShifts: 1,
      finalLower: '125',
      finalUpper: '225',
      equity: '1134.6748',
      triggeredAtMs: null,
    });
    const waiting = await backtests(shift).run(request({ ...hand, trigger: '100' }));
    expect(waiting.ok && waiting.value.result).toMatchObject({
      triggeredAtMs: null,
      equity: '1000',
      buys: 0,
      startPrice: '100',
    });
  });

  it('refuses a cap without trailing, a cap not above upper, and stops that do not straddle the trigger', async () => {
    const refused = async (values: Record<string, unknown>) =>
      (await backtests(SERIES).run(request({ ...hand, ...values }))) as { error?: { message: string } };
    expect((await refused({ 'trailing-cap': '260' })).error?.message).toBe(
      'trailing cap 260 given without trailing up',
    );
    expect((await refused({ 'trailing-up': true, 'trailing-cap': '200' })).error?.message).toBe(
      'trailing cap 200 must be above upper 200',
    );
    expect((await refused({ trigger: '150', 'take-profit': '140' })).error?.message).toBe(
      'take-profit 140 must be above the trigger price 150',
    );
  });
});

function request(values: Record<string, unknown>) {
  const r = new Backtests({ candles: source(null) }).request(args(values), plain);
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}
