import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { parseCandlesCsv } from '../../../src/data/candles-csv.js';
import { runFastBacktest } from '../../../src/engine/backtest/fast.js';
import { type BuyFeeIn, buyDelivery } from '../../../src/engine/backtest/fees.js';
import { runReferenceBacktest } from '../../../src/engine/backtest/reference.js';
import type { BacktestResult } from '../../../src/engine/backtest/result.js';
import { allocateCandles, type CandleSeries, sliceCandles } from '../../../src/engine/candles.js';
import type { GridMode, GridParams } from '../../../src/engine/grid/params.js';
import { planGrid } from '../../../src/engine/grid/plan.js';
import { PRICE_DECIMALS, priceText } from '../../../src/engine/money.js';
import { seededRandom } from '../../../src/engine/random.js';
import { SHARED_DATA } from '../../support/candles.js';
import { expectSameResult } from '../../support/results.js';

/**
 * The backtester's loop (fast.ts) equals the general engine driven fill by fill through the paper matching model
 * (reference.ts), figure for figure, on seeded random cases: arithmetic and geometric grids of random counts, ranges
 * (inside, around or cutting through the prices), ticks, quantity steps, investments and fees, buy fees in quote or in
 * base, random stop-loss and take-profit, trailing up (with and without a cap) and trigger prices (reached from above,
 * from below, or never); over random walks (with jumps that cross several lines at once) and random windows of the
 * real 1-minute candles in ../shared/data.
 *
 * Deterministic by default; `SEED=<n>` draws another set and `CASES=<n>` another count. Each case has its own seed
 * (drawn from SEED), printed in its name; a failure prints the case in full and the command that replays it alone.
 */
const SEED = Number(process.env.SEED ?? 20_251_207);
const CASES = Number(process.env.CASES ?? 200);
const REPLAY = 'npx vitest run test/unit/engine/backtest-differential.test.ts';

const REAL_FILES = [
  'BTCUSDT-1m-2025-06.csv.gz',
  'ETHUSDT-1m-2025-07.csv.gz',
  'extra/BTCUSDT-1m-2024-08.csv.gz',
  'extra/SOLUSDT-1m-2021-09.csv.gz',
] as const;
const TICKS = ['0.0001', '0.001', '0.01', '0.1', '1'] as const;
const QTY_STEPS = ['1', '0.1', '0.01', '0.001', '0.0001', '0.000001'] as const;
const FEES = ['0', '0.0001', '0.0002', '0.00055', '0.00075', '0.001', '0.0018', '0.002', '0.0035'] as const;
const UNIT = 10 ** PRICE_DECIMALS;

type Rng = () => number;
const uniform = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng();
const logUniform = (rng: Rng, lo: number, hi: number) => Math.exp(uniform(rng, Math.log(lo), Math.log(hi)));
const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const gaussian = (rng: Rng) => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());

type Source =
  | { kind: 'walk'; tick: string; startTicks: number; volatility: number; drift: number; jumpChance: number }
  | { kind: 'real'; file: string; start: number };

interface Case {
  index: number;
  seed: number;
  source: Source;
  length: number;
  params: GridParams;
  buyFeeIn: BuyFeeIn;
}

const realCandles = new Map<string, CandleSeries>();
function real(file: string): CandleSeries {
  let series = realCandles.get(file);
  if (!series) {
    const path = `${SHARED_DATA}${file}`;
    series = parseCandlesCsv(gunzipSync(readFileSync(path)), path);
    realCandles.set(file, series);
  }
  return series;
}

/**
 * A random walk in whole ticks: log-normal closes with a drift, highs and lows beyond the body, and now and then a
 * jump of 2-12 % (a gap through several grid lines in one segment, and a way to reach a stop).
 */
function walk(source: Extract<Source, { kind: 'walk' }>, length: number, seed: number): CandleSeries {
  const rng = seededRandom(seed);
  const tick = Math.round(Number(source.tick) * UNIT);
  const out = allocateCandles(length);
  let price = source.startTicks;
  for (let i = 0; i < length; i++) {
    const open = price;
    let move = source.drift + source.volatility * gaussian(rng);
    if (rng() < source.jumpChance) move += (rng() < 0.5 ? -1 : 1) * uniform(rng, 0.02, 0.12);
    const close = Math.max(1, Math.round(open * Math.exp(move)));
    const high = Math.max(open, close) + Math.floor(Math.abs(gaussian(rng)) * source.volatility * open * 0.7);
    const low = Math.max(
      1,
      Math.min(open, close) - Math.floor(Math.abs(gaussian(rng)) * source.volatility * open * 0.7),
    );
    out.openTimeMs[i] = Date.UTC(2025, 0, 1) + i * 60_000;
    out.open[i] = open * tick;
    out.high[i] = high * tick;
    out.low[i] = low * tick;
    out.close[i] = close * tick;
    price = close;
  }
  return out;
}

function candlesOf({ source, length, seed }: Pick<Case, 'source' | 'length' | 'seed'>): CandleSeries {
  if (source.kind === 'real') return sliceCandles(real(source.file), source.start, source.start + length);
  return walk(source, length, seed);
}

function drawSource(rng: Rng): { source: Source; length: number } {
  if (rng() < 0.4) {
    const file = pick(rng, REAL_FILES);
    const length = Math.round(logUniform(rng, 200, 5_000));
    return { source: { kind: 'real', file, start: int(rng, 0, real(file).length - length) }, length };
  }
  const volatility = logUniform(rng, 0.0005, 0.01);
  return {
    source: {
      kind: 'walk',
      tick: pick(rng, TICKS),
      startTicks: Math.round(logUniform(rng, 2_000, 5_000_000)),
      volatility,
      drift: uniform(rng, -0.15, 0.15) * volatility,
      jumpChance: pick(rng, [0, 0.002, 0.01]),
    },
    length: Math.round(logUniform(rng, 50, 3_000)),
  };
}

/** A walk's own tick; the real pairs here all trade on 0.01. */
const tickOf = (source: Source): string => (source.kind === 'walk' ? source.tick : '0.01');

/** Rounds price units down to a multiple of the tick (in units), at least one tick. */
const onTick = (units: number, tickUnits: number) =>
  Math.max(tickUnits, Math.floor(units / tickUnits) * tickUnits);

/** A grid for the window, drawn until the engine accepts it (planGrid, and with buy fees in base buyDelivery). */
function drawGrid(
  rng: Rng,
  series: CandleSeries,
  tick: string,
): { params: GridParams; buyFeeIn: BuyFeeIn } | null {
  const tickUnits = Math.round(Number(tick) * UNIT);
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (let i = 0; i < series.length; i++) {
    lo = Math.min(lo, series.low[i]!);
    hi = Math.max(hi, series.high[i]!);
  }
  const first = series.open[0]!;
  const span = Math.max(hi - lo, first * 0.02);
  for (let attempt = 0; attempt < 50; attempt++) {
    // A trigger somewhere the path goes (now and then where it never goes); the grid then starts there (P0 = T0).
    const trigger =
      rng() < 0.3
        ? onTick(rng() < 0.2 ? hi + span * uniform(rng, 0.05, 0.3) : uniform(rng, lo, hi), tickUnits)
        : null;
    const p0 = trigger ?? first;
    // Negative margins widen the range past the prices; positive ones cut into it, so the price leaves the grid.
    const lower = onTick(lo + span * uniform(rng, -0.3, 0.35), tickUnits);
    const upper = onTick(hi - span * uniform(rng, -0.3, 0.35), tickUnits);
    if (lower >= upper) continue;
    const grids = 2 + Math.floor(rng() ** 2 * 150);
    const trailingUp = rng() < 0.35;
    const trailingCap =
      trailingUp && rng() < 0.5 ? onTick(upper + tickUnits + rng() * span * 0.6, tickUnits) : null;
    const qtyStep = pick(rng, QTY_STEPS);
    const lots = Math.round(logUniform(rng, 1, 3_000));
    const investment = new Decimal(lots)
      .times(qtyStep)
      .times(priceText(p0))
      .times(grids)
      .times(uniform(rng, 1, 1.05))
      .toDecimalPlaces(2, Decimal.ROUND_UP);
    const stopLoss =
      rng() < 0.35 && p0 > tickUnits
        ? onTick(p0 - 1 - rng() * (p0 - Math.max(lo - span * 0.1, 1)), tickUnits)
        : null;
    const takeProfit =
      rng() < 0.35 ? onTick(p0 + tickUnits + rng() * (hi + span * 0.1 - p0), tickUnits) : null;
    const params: GridParams = {
      lower: priceText(lower),
      upper: priceText(upper),
      grids,
      mode: pick<GridMode>(rng, ['arithmetic', 'geometric']),
      investment: investment.toFixed(),
      makerFee: pick(rng, FEES),
      takerFee: pick(rng, FEES),
      instrument: { tickSize: tick, qtyStep, minQty: qtyStep, minValue: pick(rng, ['1', '0.01']) },
      stopLoss: stopLoss !== null && stopLoss < p0 ? priceText(stopLoss) : undefined,
      takeProfit: takeProfit !== null && takeProfit > p0 ? priceText(takeProfit) : undefined,
      ...(trigger !== null && { trigger: priceText(trigger) }),
      ...(trailingUp && { trailingUp: true }),
      ...(trailingCap !== null && trailingCap > upper && { trailingCap: priceText(trailingCap) }),
    };
    const buyFeeIn: BuyFeeIn = rng() < 0.5 ? 'quote' : 'base';
    const plan = planGrid(params, p0);
    if (plan.ok && buyDelivery(plan.value, buyFeeIn).ok) return { params, buyFeeIn };
  }
  return null;
}

function drawCase(index: number, seed: number): Case {
  const rng = seededRandom(seed);
  for (;;) {
    const { source, length } = drawSource(rng);
    const series = candlesOf({ source, length, seed });
    const grid = drawGrid(rng, series, tickOf(source));
    if (grid) return { index, seed, source, length, ...grid };
  }
}

function drawCases(): Case[] {
  const seeds = seededRandom(SEED);
  return Array.from({ length: CASES }, (_, i) => drawCase(i, Math.floor(seeds() * 2 ** 32)));
}

function describeCase(c: Case): string {
  const p = c.params;
  const source =
    c.source.kind === 'real'
      ? `${c.source.file} [${c.source.start}, +${c.length})`
      : `walk of ${c.length} on tick ${c.source.tick}`;
  const stops = [
    p.stopLoss && `SL ${p.stopLoss}`,
    p.takeProfit && `TP ${p.takeProfit}`,
    p.trigger && `trigger ${p.trigger}`,
    p.trailingUp && (p.trailingCap ? `trailing to ${p.trailingCap}` : 'trailing'),
  ]
    .filter(Boolean)
    .join(' ');
  return `#${c.index} seed ${c.seed}: ${source}, ${p.mode} ${p.grids} grids ${p.lower}-${p.upper}${stops ? `, ${stops}` : ''}, buy fee in ${c.buyFeeIn}`;
}

function fastRun(c: Case, series: CandleSeries): BacktestResult {
  const plan = planGrid(c.params, series.open[0]!);
  if (!plan.ok) throw new Error(plan.error.message);
  return runFastBacktest(plan.value, series, { buyFeeIn: c.buyFeeIn }).result;
}

const cases = drawCases();
/** Each case's fast result, kept for the coverage check below (which computes those a filtered run skipped). */
const fastResults = new Map<Case, BacktestResult>();

describe(`the backtester loop equals the general engine driven through the paper matching model (SEED=${SEED}, ${CASES} cases)`, () => {
  for (const c of cases) {
    it(describeCase(c), () => {
      const series = candlesOf(c);
      try {
        const fast = fastRun(c, series);
        fastResults.set(c, fast);
        const reference = runReferenceBacktest(c.params, series, 'bt', c.buyFeeIn);
        expectSameResult(reference, fast);
      } catch (e) {
        throw new Error(
          `${describeCase(c)}\nreplay: SEED=${SEED} CASES=${CASES} ${REPLAY} -t 'seed ${c.seed}:'\n` +
            `case: ${JSON.stringify(c)}\n${(e as Error).message}`,
          { cause: e },
        );
      }
    });
  }

  it('draws cases that exercise what the fixed ones did: fills, both stops, base-fee dust, both modes and sources, trailing and triggers', () => {
    const results = cases.map((c) => ({ c, r: fastResults.get(c) ?? fastRun(c, candlesOf(c)) }));
    const count = (f: (x: (typeof results)[number]) => boolean) => results.filter(f).length;
    const share = (n: number) => n / results.length;
    expect(share(count(({ r }) => r.buys + r.sells > 0))).toBeGreaterThan(0.7);
    expect(share(count(({ r }) => r.buys + r.sells > 100))).toBeGreaterThan(0.25);
    expect(share(count(({ r }) => r.stopped?.reason === 'stop-loss'))).toBeGreaterThan(0.05);
    expect(share(count(({ r }) => r.stopped?.reason === 'take-profit'))).toBeGreaterThan(0.05);
    // The price leaves the grid's range (the loop's edge cases: no buys below, no sells above).
    const outside = ({ c, r }: (typeof results)[number]) =>
      new Decimal(r.endPrice).gt(c.params.upper) || new Decimal(r.endPrice).lt(c.params.lower);
    expect(share(count(outside))).toBeGreaterThan(0.1);
    // Not vacuous in base: buys left dust, so the base held is not a whole number of lots.
    const dust = count(
      ({ c, r }) =>
        c.buyFeeIn === 'base' &&
        r.buys > 0 &&
        !new Decimal(r.baseQty).mod(c.params.instrument.qtyStep).isZero(),
    );
    expect(share(dust)).toBeGreaterThan(0.2);
    expect(share(count(({ c }) => c.params.mode === 'geometric'))).toBeGreaterThan(0.3);
    expect(share(count(({ c }) => c.params.mode === 'arithmetic'))).toBeGreaterThan(0.3);
    expect(share(count(({ c }) => c.source.kind === 'real'))).toBeGreaterThan(0.25);
    expect(share(count(({ c }) => c.source.kind === 'walk'))).toBeGreaterThan(0.4);
    // Trailing up: grids that shifted, several times over, some up to their cap; a cap never crossed.
    const trailing = results.filter(({ c }) => c.params.trailingUp);
    expect(share(trailing.length)).toBeGreaterThan(0.2);
    expect(share(count(({ r }) => r.trailingShifts > 0))).toBeGreaterThan(0.08);
    expect(count(({ r }) => r.trailingShifts > 5)).toBeGreaterThan(5);
    const capped = trailing.filter(({ c }) => c.params.trailingCap !== undefined);
    expect(capped.filter(({ r }) => r.trailingShifts > 0).length).toBeGreaterThan(3);
    for (const { c, r } of capped) expect(new Decimal(r.finalUpper).lte(c.params.trailingCap!)).toBe(true);
    // Triggers reached from above and from below, and never reached (then nothing traded).
    const triggered = results.filter(
      ({ c, r }) => c.params.trigger !== undefined && r.triggeredAtMs !== null,
    );
    expect(share(triggered.length)).toBeGreaterThan(0.15);
    const from = (above: boolean) =>
      triggered.filter(
        ({ c }) => new Decimal(c.params.trigger!).lt(priceText(candlesOf(c).open[0]!)) === above,
      );
    expect(from(true).length).toBeGreaterThan(5);
    expect(from(false).length).toBeGreaterThan(5);
    const never = results.filter(({ c, r }) => c.params.trigger !== undefined && r.triggeredAtMs === null);
    expect(never.length).toBeGreaterThan(2);
    for (const { c, r } of never) {
      expect(r).toMatchObject({ buys: 0, sells: 0, fees: '0', startBuyQty: '0', maxDrawdownPct: 0 });
      expect(new Decimal(r.equity).eq(c.params.investment)).toBe(true);
    }
  });
});
