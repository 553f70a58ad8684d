import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parseCandlesCsv } from '../src/data/candles-csv.js';
import { runFastBacktest } from '../src/engine/backtest/fast.js';
import type { CandleSeries } from '../src/engine/candles.js';
import type { GridParams } from '../src/engine/grid/params.js';
import { DEFAULT_INSTRUMENT } from '../src/engine/grid/params.js';
import { planGrid } from '../src/engine/grid/plan.js';
import { median, report, seededRandom, timeCommand } from './support.js';

const YEAR_MINUTES = 525_600;
const SHARED = new URL('../../../shared/data/', import.meta.url).pathname;

/**
 * A year of 1-minute BTC-like candles from a seeded random walk: 0.066 % per-minute volatility (about 2.5 % a day, as
 * BTC's 1-minute candles in ../shared/data show), a gentle pull back towards 100,000 so the year stays inside the
 * grid and keeps trading, prices on the 0.01 tick.
 */
export function writeSeededYear(path: string): void {
  const rnd = seededRandom(20261125);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const rows: string[] = ['open_time_ms,open,high,low,close,volume'];
  let price = 100_000;
  const t0 = Date.UTC(2025, 0, 1);
  const cents = (x: number) => (Math.round(x * 100) / 100).toFixed(2);
  for (let i = 0; i < YEAR_MINUTES; i++) {
    const open = price;
    let high = open;
    let low = open;
    for (let k = 0; k < 4; k++) {
      price *= 1 + 0.00033 * gauss() + 0.000002 * Math.log(100_000 / price);
      high = Math.max(high, price);
      low = Math.min(low, price);
    }
    rows.push(
      `${t0 + i * 60_000},${cents(open)},${cents(high)},${cents(low)},${cents(price)},${(rnd() * 5).toFixed(5)}`,
    );
    price = Number(cents(price));
  }
  writeFileSync(path, gzipSync(`${rows.join('\n')}\n`));
}

const GRID: GridParams = {
  lower: '80000',
  upper: '120000',
  grids: 100,
  mode: 'arithmetic',
  investment: '100000',
  makerFee: '0.001',
  takerFee: '0.001',
  instrument: DEFAULT_INSTRUMENT,
};

function engineThroughput(candles: CandleSeries, params: GridParams): { perSecond: number; fills: number } {
  const plan = planGrid(params, candles.open[0]!);
  if (!plan.ok) throw new Error(plan.error.message);
  let fills = 0;
  const rates: number[] = [];
  for (let i = 0; i < 12; i++) {
    const t0 = performance.now();
    const { result } = runFastBacktest(plan.value, candles);
    const ms = performance.now() - t0;
    fills = result.buys + result.sells;
    if (i >= 2) rates.push(candles.length / (ms / 1000)); // the first runs warm the JIT
  }
  return { perSecond: median(rates), fills };
}

export function benchBacktest(): void {
  const dir = join(tmpdir(), 'gridops-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'seeded-year-1m.csv.gz');
  if (!existsSync(file)) writeSeededYear(file);
  const candles = parseCandlesCsv(gunzipSync(readFileSync(file)), file);

  console.log(
    '\n# Backtester: 100-line arithmetic grid, 80,000-120,000, one year of 1-minute candles (seeded walk)',
  );
  const engine = engineThroughput(candles, GRID);
  report(
    'engine only, candles in memory',
    `${(engine.perSecond / 1e6).toFixed(1)} M candles/s`,
    `(${candles.length} candles, ${engine.fills} fills; target ≥ 10 M/s; passivbot's Rust loop ≈ 0.7 M/s)`,
  );

  const real = ['05', '06', '07', '08'].map((m) => `${SHARED}BTCUSDT-1m-2025-${m}.csv.gz`);
  if (real.every(existsSync)) {
    const text = real.map((f, i) => {
      const body = gunzipSync(readFileSync(f)).toString('utf8');
      return i === 0 ? body : body.slice(body.indexOf('\n') + 1);
    });
    const btc = parseCandlesCsv(Buffer.from(text.join('')), 'BTCUSDT 2025-05..08');
    const realGrid = { ...GRID, lower: '95000', upper: '125000', investment: '100000' };
    const r = engineThroughput(btc, realGrid);
    report(
      'engine only, real BTCUSDT 2025-05-20..08-18',
      `${(r.perSecond / 1e6).toFixed(1)} M candles/s`,
      `(${btc.length} candles, ${r.fills} fills, 95,000-125,000)`,
    );
  }

  const cli = [
    'dist/src/cli/backtest.js',
    '--data',
    file,
    '--lower',
    GRID.lower,
    '--upper',
    GRID.upper,
    '--grids',
    String(GRID.grids),
    '--investment',
    GRID.investment,
    '--json',
  ];
  const endToEnd = timeCommand(process.execPath, cli);
  const gzip = timeCommand('sh', ['-c', `gzip -dc '${file}' > /dev/null`]);
  const nodeStart = timeCommand(process.execPath, ['-e', '0']);
  report(
    'CLI end to end (node dist/src/cli/backtest.js, .gz)',
    `${endToEnd.toFixed(0)} ms`,
    '(target ≤ 1000 ms)',
  );
  report('gzip -dc of the same file', `${gzip.toFixed(0)} ms`);
  report('ratio CLI / gzip -dc', `${(endToEnd / gzip).toFixed(2)}`);
  report('node process start alone (node -e 0)', `${nodeStart.toFixed(0)} ms`);
  const viaNpm = timeCommand('npm', ['run', '--silent', 'backtest', '--', ...cli.slice(1)], 3);
  report(
    'the same through npm run --silent backtest',
    `${viaNpm.toFixed(0)} ms`,
    '(npm adds its own start-up)',
  );
}
