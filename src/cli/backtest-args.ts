import { parseArgs } from 'node:util';
import { z } from 'zod';
// Constants only: kline-backfill's database and Bybit imports are types, so the --data path loads nothing more.
import { KLINE_INTERVALS, type KlineInterval } from '../data/kline-backfill.js';
import type { BuyFeeIn } from '../engine/backtest/fees.js';
import {
  DEFAULT_FEE,
  DEFAULT_INSTRUMENT,
  type GridParams,
  MAX_GRIDS,
  MIN_GRIDS,
} from '../engine/grid/params.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const BACKTEST_USAGE =
  'usage: npm run --silent backtest -- (--data FILE.csv[.gz] | --symbol S --from YYYY-MM-DD --to YYYY-MM-DD ' +
  '[--interval 1]) --lower L --upper U --grids N --investment I ' +
  '[--mode arithmetic|geometric] [--fee 0.001] [--taker-fee 0.001] [--tick 0.01] [--qty-step 0.000001] ' +
  '[--min-qty 0.000048] [--min-value 1] [--stop-loss S] [--take-profit T] [--buy-fee-in quote|base] [--json] ' +
  '[--chart OUT.png]\n' +
  '  --symbol reads the candles stored by `npm run cli -- data fetch` (Postgres at DATABASE_URL), ' +
  'from the start of --from to the end of --to (UTC)\n' +
  '  --buy-fee-in base takes buy fees out of the base coin as Bybit spot does (default quote)';

const decimal = (flag: string) =>
  z.string({ error: `--${flag} is required` }).regex(/^(?:0|[1-9]\d*)(?:\.\d+)?$/, {
    error: (issue) =>
      `--${flag} must be a plain non-negative decimal such as 97250.5, got "${String(issue.input)}"`,
  });

export const DAY_MS = 86_400_000;

/** A UTC calendar day, YYYY-MM-DD (also used by `cli data fetch`). */
export const dateArg = (flag: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, {
      error: (issue) => `--${flag} must be a date YYYY-MM-DD, got "${String(issue.input)}"`,
    })
    .refine(
      (d) => {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) return true; // the regex has said it
        const t = Date.parse(`${d}T00:00:00Z`);
        return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === d;
      },
      { error: (issue) => `--${flag} is not a calendar date: "${String(issue.input)}"` },
    );

/** A spot symbol such as BTCUSDT (any case on the command line). */
export const symbolArg = z
  .string({ error: '--symbol is required' })
  .transform((s) => s.toUpperCase())
  .pipe(z.string().regex(/^[A-Z0-9]{2,30}$/, { error: '--symbol must be a symbol such as BTCUSDT' }));

const Args = z.object({
  data: z.string().min(1, { error: '--data FILE must not be empty' }).optional(),
  symbol: symbolArg.optional(),
  from: dateArg('from').optional(),
  to: dateArg('to').optional(),
  interval: z
    .enum(KLINE_INTERVALS, { error: `--interval must be one of ${KLINE_INTERVALS.join(', ')}` })
    .optional(),
  lower: decimal('lower'),
  upper: decimal('upper'),
  grids: z
    .string({ error: '--grids is required' })
    .regex(/^\d+$/, { error: (i) => `--grids must be a whole number, got "${String(i.input)}"` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(MIN_GRIDS, { error: `--grids must be from ${MIN_GRIDS} to ${MAX_GRIDS}` })
        .max(MAX_GRIDS, { error: `--grids must be from ${MIN_GRIDS} to ${MAX_GRIDS}` }),
    ),
  investment: decimal('investment'),
  mode: z
    .enum(['arithmetic', 'geometric'], { error: '--mode must be arithmetic or geometric' })
    .default('arithmetic'),
  fee: decimal('fee').default(DEFAULT_FEE),
  'taker-fee': decimal('taker-fee').default(DEFAULT_FEE),
  tick: decimal('tick').default(DEFAULT_INSTRUMENT.tickSize),
  'qty-step': decimal('qty-step').default(DEFAULT_INSTRUMENT.qtyStep),
  'min-qty': decimal('min-qty').default(DEFAULT_INSTRUMENT.minQty),
  'min-value': decimal('min-value').default(DEFAULT_INSTRUMENT.minValue),
  'stop-loss': decimal('stop-loss').optional(),
  'take-profit': decimal('take-profit').optional(),
  'buy-fee-in': z
    .enum(['quote', 'base'], {
      error: (issue) => `--buy-fee-in must be quote or base, got "${String(issue.input)}"`,
    })
    .default('quote'),
  json: z.boolean().default(false),
  chart: z.string().min(1).optional(),
});

/** Where the candles come from: a CSV file, or the Postgres store filled by `data fetch`. */
export type CandleSource =
  | { readonly kind: 'file'; readonly path: string }
  | {
      readonly kind: 'store';
      readonly symbol: string;
      readonly interval: KlineInterval;
      /** Candles opening in [fromMs, toMs): from the start of --from to the end of --to, UTC. */
      readonly fromMs: number;
      readonly toMs: number;
    };

export interface BacktestArgs {
  readonly source: CandleSource;
  readonly params: GridParams;
  readonly json: boolean;
  readonly chart: string | undefined;
  /** Where buys pay their fee: quote (the default) or the base coin, as Bybit spot takes it. */
  readonly buyFeeIn: BuyFeeIn;
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
  'chart',
] as const;

/** Exactly one of --data or --symbol; --from, --to and --interval belong to --symbol. */
function sourceProblems(values: Record<string, unknown>): string[] {
  const has = (flag: string) => values[flag] !== undefined;
  if (has('data') && has('symbol')) return ['give either --data FILE or --symbol S, not both'];
  if (has('data')) {
    const extra = ['from', 'to', 'interval'].filter(has).map((f) => `--${f}`);
    return extra.length ? [`${extra.join(', ')} go with --symbol, not --data`] : [];
  }
  if (!has('symbol')) {
    return ['one of --data FILE or --symbol S (with --from YYYY-MM-DD --to YYYY-MM-DD) is required'];
  }
  const missing = ['from', 'to'].filter((f) => !has(f)).map((f) => `--${f} YYYY-MM-DD`);
  return missing.length ? [`--symbol needs ${missing.join(' and ')}`] : [];
}

/** argv → validated backtest arguments, or a UsageError whose message is one line naming the problem. */
export function parseBacktestArgs(argv: readonly string[]): BacktestArgs {
  let values: Record<string, unknown>;
  try {
    const options = Object.fromEntries(STRING_FLAGS.map((f) => [f, { type: 'string' as const }]));
    values = parseArgs({ args: [...argv], options: { ...options, json: { type: 'boolean' } }, strict: true })
      .values as Record<string, unknown>;
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0] ?? 'bad arguments');
  }
  const problems = sourceProblems(values);
  const parsed = Args.safeParse(values);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => i.message));
  if (problems.length > 0 || !parsed.success) throw new UsageError(problems.join('; '));
  const a = parsed.data;
  let source: CandleSource;
  if (a.data !== undefined) {
    source = { kind: 'file', path: a.data };
  } else {
    const fromMs = Date.parse(`${a.from!}T00:00:00Z`);
    const toMs = Date.parse(`${a.to!}T00:00:00Z`) + DAY_MS;
    if (toMs <= fromMs) throw new UsageError(`--from ${a.from!} is after --to ${a.to!}`);
    source = { kind: 'store', symbol: a.symbol!, interval: a.interval ?? '1', fromMs, toMs };
  }
  return {
    source,
    json: a.json,
    chart: a.chart,
    buyFeeIn: a['buy-fee-in'],
    params: {
      lower: a.lower,
      upper: a.upper,
      grids: a.grids,
      mode: a.mode,
      investment: a.investment,
      makerFee: a.fee,
      takerFee: a['taker-fee'],
      instrument: {
        tickSize: a.tick,
        qtyStep: a['qty-step'],
        minQty: a['min-qty'],
        minValue: a['min-value'],
      },
      stopLoss: a['stop-loss'],
      takeProfit: a['take-profit'],
    },
  };
}
