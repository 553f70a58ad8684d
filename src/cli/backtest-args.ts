import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  type ArgProblem,
  type BacktestArgs,
  backtestArgs,
  dateField,
  parseBacktestArgs as parseArgValues,
  symbolField,
} from '../app/backtest.js';
import { KLINE_INTERVALS } from '../data/kline-intervals.js';

export { DAY_MS } from '../app/backtest.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const BACKTEST_USAGE =
  'usage: npm run --silent backtest -- (--data FILE.csv[.gz] | --symbol S --from YYYY-MM-DD --to YYYY-MM-DD ' +
  '[--interval 1]) --lower L --upper U --grids N --investment I ' +
  '[--mode arithmetic|geometric] [--fee 0.001] [--taker-fee 0.001] [--tick 0.01] [--qty-step 0.000001] ' +
  '[--min-qty 0.000048] [--min-value 1] [--stop-loss S] [--take-profit T] [--buy-fee-in quote|base] ' +
  '[--trailing-up [--trailing-cap C]] [--trigger T0] [--json] [--chart OUT.png]\n' +
  '  --symbol reads the candles stored by `npm run cli -- data fetch` (Postgres at DATABASE_URL), ' +
  'from the start of --from to the end of --to (UTC)\n' +
  '  --buy-fee-in base takes buy fees out of the base coin as Bybit spot does (default quote)\n' +
  '  --trailing-up moves the grid up one line at a time as the price rises past it (never its top above C); ' +
  '--trigger waits until the price reaches T0 and starts the grid there (docs/grid-rules.md)';

/** The command line's voice: each problem names its flag. */
export const cliWording = (p: ArgProblem): string | undefined => {
  switch (p.kind) {
    case 'required':
      return `--${p.field} is required`;
    case 'empty':
      return `--${p.field} FILE must not be empty`;
    case 'decimal':
      return `--${p.field} must be a plain non-negative decimal such as 97250.5, got "${p.input}"`;
    case 'whole':
      return `--${p.field} must be a whole number, got "${p.input}"`;
    case 'range':
      return `--${p.field} must be from ${p.min} to ${p.max}`;
    case 'symbol':
      return `--${p.field} must be a symbol such as BTCUSDT`;
    case 'date':
      return `--${p.field} must be a date YYYY-MM-DD, got "${p.input}"`;
    case 'calendar':
      return `--${p.field} is not a calendar date: "${p.input}"`;
    case 'choice':
      if (p.field === 'mode') return '--mode must be arithmetic or geometric';
      if (p.field === 'buy-fee-in') return `--buy-fee-in must be quote or base, got "${p.input}"`;
      return `--${p.field} must be one of ${p.choices.join(', ')}`;
    case 'both-sources':
      return 'give either --data FILE or --symbol S, not both';
    case 'window-with-file':
      return `${p.fields.map((f) => `--${f}`).join(', ')} go with --symbol, not --data`;
    case 'no-source':
      return 'one of --data FILE or --symbol S (with --from YYYY-MM-DD --to YYYY-MM-DD) is required';
    case 'needs-dates':
      return `--symbol needs ${p.missing.map((f) => `--${f} YYYY-MM-DD`).join(' and ')}`;
    case 'from-after-to':
      return `--from ${p.from} is after --to ${p.to}`;
    default:
      // 'unsafe' (a whole number past 2^53) keeps the schema's own line; the command line has no --days.
      return undefined;
  }
};

/** A spot symbol such as BTCUSDT (any case on the command line); also `data fetch`'s. */
export const symbolArg = symbolField(cliWording);

/** A UTC calendar day, YYYY-MM-DD (also used by `cli data fetch`). */
export const dateArg = (flag: string) => dateField(cliWording, flag);

const Args = backtestArgs(cliWording, KLINE_INTERVALS);

/** What only the command line asks: how to print the result. */
const Output = z.object({ json: z.boolean().default(false), chart: z.string().min(1).optional() });

export interface CliBacktestArgs {
  readonly args: BacktestArgs;
  readonly json: boolean;
  readonly chart: string | undefined;
}

const STRING_FLAGS = [
  'data',
  'symbol',
  'from',
  'to',
  'interval',
  'lower',
  'upper',
  'grids',
  'investment',
  'mode',
  'fee',
  'taker-fee',
  'tick',
  'qty-step',
  'min-qty',
  'min-value',
  'stop-loss',
  'take-profit',
  'buy-fee-in',
  'trailing-cap',
  'trigger',
  'chart',
] as const;

/** argv → validated backtest arguments, or a UsageError whose message is one line naming every problem. */
export function parseBacktestArgs(argv: readonly string[]): CliBacktestArgs {
  let values: Record<string, unknown>;
  try {
    const options = Object.fromEntries(STRING_FLAGS.map((f) => [f, { type: 'string' as const }]));
    values = parseArgs({
      args: [...argv],
      options: { ...options, json: { type: 'boolean' }, 'trailing-up': { type: 'boolean' } },
      strict: true,
    }).values as Record<string, unknown>;
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0] ?? 'bad arguments');
  }
  const parsed = parseArgValues(Args, cliWording, values);
  const output = Output.safeParse(values);
  const problems = [
    ...(parsed.ok || parsed.error.kind !== 'usage' ? [] : parsed.error.problems),
    ...(output.success ? [] : output.error.issues.map((i) => i.message)),
  ];
  if (problems.length > 0 || !parsed.ok || !output.success) throw new UsageError(problems.join('; '));
  return { args: parsed.value, json: output.data.json, chart: output.data.chart };
}
