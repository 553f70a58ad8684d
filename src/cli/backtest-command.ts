import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { CandleFormatError, parseCandlesCsv } from '../data/candles-csv.js';
import { runFastBacktest } from '../engine/backtest/fast.js';
import type { BacktestResult } from '../engine/backtest/result.js';
import type { CandleSeries } from '../engine/candles.js';
import { planGrid } from '../engine/grid/plan.js';
import { Dec } from '../engine/money.js';
import { BACKTEST_USAGE, parseBacktestArgs, UsageError } from './backtest-args.js';

/** Bad input: the user can fix it. Exit 2 with one line on stderr, never a stack trace. */
class InputError extends Error {}

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
    const candles = loadCandleFile(args.data);
    const plan = planGrid(args.params, candles.open[0]!);
    if (!plan.ok) throw new InputError(plan.error.message);
    const { result, series } = runFastBacktest(plan.value, candles);
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
    process.stderr.write(`backtest: internal error: ${(e as Error).message}\n`);
    return 1;
  }
}
