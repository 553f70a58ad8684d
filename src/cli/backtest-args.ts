import { parseArgs } from 'node:util';
import { z } from 'zod';
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
  'usage: npm run --silent backtest -- --data FILE.csv[.gz] --lower L --upper U --grids N --investment I ' +
  '[--mode arithmetic|geometric] [--fee 0.001] [--taker-fee 0.001] [--tick 0.01] [--qty-step 0.000001] ' +
  '[--min-qty 0.000048] [--min-value 1] [--stop-loss S] [--take-profit T] [--json] [--chart OUT.png]';

const decimal = (flag: string) =>
  z.string({ error: `--${flag} is required` }).regex(/^(?:0|[1-9]\d*)(?:\.\d+)?$/, {
    error: (issue) =>
      `--${flag} must be a plain non-negative decimal such as 97250.5, got "${String(issue.input)}"`,
  });

const Args = z.object({
  data: z.string({ error: '--data FILE is required' }).min(1, { error: '--data FILE is required' }),
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
  json: z.boolean().default(false),
  chart: z.string().min(1).optional(),
});

export interface BacktestArgs {
  readonly data: string;
  readonly params: GridParams;
  readonly json: boolean;
  readonly chart: string | undefined;
}

const STRING_FLAGS = [
  'data',
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
  'chart',
] as const;

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
  const parsed = Args.safeParse(values);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join('; '));
  const a = parsed.data;
  return {
    data: a.data,
    json: a.json,
    chart: a.chart,
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
