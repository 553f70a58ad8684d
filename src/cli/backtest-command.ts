import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { DataSource } from 'typeorm';
import type { Config } from '../config.js';
import { CandleFormatError, parseCandlesCsv } from '../data/candles-csv.js';
import { runFastBacktest } from '../engine/backtest/fast.js';
import { buyDelivery } from '../engine/backtest/fees.js';
import type { BacktestResult } from '../engine/backtest/result.js';
import type { CandleSeries } from '../engine/candles.js';
import { planGrid } from '../engine/grid/plan.js';
import { Dec } from '../engine/money.js';
import { BACKTEST_USAGE, type CandleSource, parseBacktestArgs, UsageError } from './backtest-args.js';

/** Bad input: the user can fix it. Exit 2 with one line on stderr, never a stack trace. */
class InputError extends Error {}

/** The environment is wrong (configuration, Postgres unreachable): exit 1 with one line, as the other CLIs do. */
class EnvironmentError extends Error {}

export function loadCandleFile(path: string): CandleSeries {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT'
        ? `cannot read ${path}: no such file`
        : `cannot read ${path}: ${(e as Error).message}`,
    );
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new InputError(`cannot read ${path}: not a valid gzip file (${(e as Error).message})`);
    }
  }
  return parseCandlesCsv(bytes, path);
}

/**
 * The candles of the Postgres store (filled by `npm run cli -- data fetch`). The configuration, TypeORM and pg are
 * imported here, on this path only, so a backtest of a file starts as fast as it always did.
 */
export async function loadStoredCandles(
  source: Extract<CandleSource, { kind: 'store' }>,
): Promise<CandleSeries> {
  const { ConfigError, loadConfig } = await import('../config.js');
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) throw new EnvironmentError(e.message);
    throw e;
  }
  const [
    { createDataSource },
    { loadCandles, noCandlesMessage, StoredCandlesError },
    { explainStartupError },
  ] = await Promise.all([
    import('../db/data-source.js'),
    import('../data/ohlcv-store.js'),
    import('../startup-errors.js'),
  ]);
  // Read only: no database is created and nothing is migrated for a backtest (`data fetch` does that).
  const ds: DataSource = createDataSource(config.DATABASE_URL, 2);
  try {
    await ds.initialize();
  } catch (e) {
    if ((e as { code?: string }).code === '3D000') {
      throw new InputError(noCandlesMessage(source, 'the database in DATABASE_URL does not exist yet'));
    }
    const why = explainStartupError(e, { database: config.DATABASE_URL, redis: config.REDIS_URL });
    throw new EnvironmentError(why ?? `cannot open the database: ${(e as Error).message}`);
  }
  try {
    return await loadCandles(ds, source);
  } catch (e) {
    if (e instanceof StoredCandlesError) throw new InputError(e.message);
    throw e;
  } finally {
    await ds.destroy().catch(() => undefined);
  }
}

export function formatSummary(r: BacktestResult, mode: string): string {
  const pct = (part: Dec) => part.div(r.investment).times(100).toFixed(2);
  const lines = [
    `Grid backtest: ${r.levels.length - 1} ${mode} grids from ${r.levels[0]} to ${r.levels[r.levels.length - 1]}`,
    `  candles            ${r.candles}`,
    `  start / end price  ${r.startPrice} / ${r.endPrice}`,
    `  quantity per grid  ${r.qtyPerGrid} (start buy ${r.startBuyQty} at ${r.startPrice}, gap line ${r.gapLine})`,
    `  grid fills         ${r.buys} buys, ${r.sells} sells`,
    `  grid profit        ${r.gridProfit}`,
    `  fees               ${r.fees}`,
    `  net profit         ${r.netProfit} (${pct(new Dec(r.netProfit))}% of ${r.investment})`,
    `  final balances     ${r.quoteBalance} quote + ${r.baseQty} base`,
    `  equity             ${r.equity} (${pct(new Dec(r.equity).minus(r.investment))}% return)`,
    `  max drawdown       ${r.maxDrawdownPct.toFixed(2)}%`,
  ];
  // Said only when it differs from the default, so the default summary reads as it always has.
  if (r.buyFeeIn === 'base') {
    lines.push(
      '  buy fees           in base: cells sell what they received; the rest is dust, in the base figure',
    );
  }
  if (r.stopped) {
    const at = new Date(r.stopped.openTimeMs).toISOString();
    lines.push(
      `  stopped            ${r.stopped.reason} at ${r.stopped.price} (candle ${r.stopped.candleIndex}, ${at})`,
    );
  }
  return lines.join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${BACKTEST_USAGE}\n`);
      return 0;
    }
    const args = parseBacktestArgs(argv);
    const candles =
      args.source.kind === 'file' ? loadCandleFile(args.source.path) : await loadStoredCandles(args.source);
    const plan = planGrid(args.params, candles.open[0]!);
    if (!plan.ok) throw new InputError(plan.error.message);
    const delivered = buyDelivery(plan.value, args.buyFeeIn);
    if (!delivered.ok) throw new InputError(delivered.error);
    const { result, series } = runFastBacktest(plan.value, candles, { buyFeeIn: args.buyFeeIn });
    if (args.chart) {
      const { renderEquityChart } = await import('../charts/render.js');
      const png = renderEquityChart({
        title: `Grid ${result.levels[0]}–${result.levels[result.levels.length - 1]} x${args.params.grids}: equity and grid profit`,
        ...series,
      });
      writeFileSync(args.chart, png);
    }
    process.stdout.write(
      args.json ? `${JSON.stringify(result)}\n` : `${formatSummary(result, args.params.mode)}\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`backtest: ${e.message} (--help shows the usage)\n`);
      return 2;
    }
    if (e instanceof InputError || e instanceof CandleFormatError) {
      process.stderr.write(`backtest: ${e.message}\n`);
      return 2;
    }
    if (e instanceof EnvironmentError) {
      process.stderr.write(`backtest: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`backtest: internal error: ${(e as Error).message}\n`);
    return 1;
  }
}
