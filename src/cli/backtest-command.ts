import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { type BacktestFailure, Backtests } from '../app/backtest.js';
import { type CandleQuery, type CandleSource, CandlesUnavailable } from '../app/ports/candles.js';
import { CandleFormatError, parseCandlesCsv } from '../data/candles-csv.js';
import type { BacktestResult } from '../engine/backtest/result.js';
import type { CandleSeries } from '../engine/candles.js';
import { Dec } from '../engine/money.js';
import { BACKTEST_USAGE, cliWording, parseBacktestArgs, UsageError } from './backtest-args.js';

/** Bad input: the user can fix it. Exit 2 with one line on stderr, never a stack trace. */
class InputError extends Error {}

/** The environment is wrong (configuration, Postgres unreachable): exit 1 with one line, as the other CLIs do. */
export class EnvironmentError extends Error {}

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

/** Loads the store's candles (src/composition/stored-candles.ts); an EnvironmentError when it cannot be reached. */
export type StoredCandlesLoader = (query: Extract<CandleQuery, { kind: 'store' }>) => Promise<CandleSeries>;

/** The command line's candles: a CSV file (--data), or the store (--symbol); what the user can fix is unavailable. */
const cliCandles = (loadStored: StoredCandlesLoader): CandleSource => ({
  async load(query) {
    if (query.kind === 'store') return loadStored(query);
    try {
      return loadCandleFile(query.path);
    } catch (e) {
      if (e instanceof InputError || e instanceof CandleFormatError) throw new CandlesUnavailable(e.message);
      throw e;
    }
  },
});

export function formatSummary(
  r: BacktestResult,
  mode: string,
  { trailing = false, trigger }: { trailing?: boolean; trigger?: string | undefined } = {},
): string {
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
  // Trailing and the trigger are said only for a grid that has them (a grid that trails or waits says it even when
  // nothing happened: "0 shifts", "never reached").
  if (trailing) {
    lines.push(
      `  trailing up        ${r.trailingShifts} shift${r.trailingShifts === 1 ? '' : 's'}, ending at ${r.finalLower} to ${r.finalUpper}`,
    );
  }
  if (trigger !== undefined) {
    lines.push(
      r.triggeredAtMs === null
        ? `  trigger            ${trigger} never reached: the investment was not touched`
        : `  trigger            ${trigger} reached in the candle of ${new Date(r.triggeredAtMs).toISOString()}`,
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

export async function main(argv: readonly string[], loadStored: StoredCandlesLoader): Promise<number> {
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${BACKTEST_USAGE}\n`);
      return 0;
    }
    const cli = parseBacktestArgs(argv);
    const backtests = new Backtests({ candles: cliCandles(loadStored) });
    const request = backtests.request(cli.args, cliWording);
    if (!request.ok) throw failureError(request.error);
    const { params } = request.value;
    const run = await backtests.run(request.value);
    if (!run.ok) throw failureError(run.error);
    const { result, series } = run.value;
    if (cli.chart) {
      const { renderEquityChart } = await import('../charts/render.js');
      const png = renderEquityChart({
        title: `Grid ${result.levels[0]}–${result.levels[result.levels.length - 1]} x${params.grids}: equity and grid profit`,
        ...series,
      });
      writeFileSync(cli.chart, png);
    }
    process.stdout.write(
      cli.json
        ? `${JSON.stringify(result)}\n`
        : `${formatSummary(result, params.mode, { trailing: params.trailingUp === true, trigger: params.trigger })}\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`backtest: ${e.message} (--help shows the usage)\n`);
      return 2;
    }
    if (e instanceof InputError) {
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

function failureError(f: BacktestFailure): Error {
  return f.kind === 'usage' ? new UsageError(f.problems.join('; ')) : new InputError(f.message);
}
