import { z } from 'zod';
import { type FastRun, runFastBacktest } from '../engine/backtest/fast.js';
import { type BuyFeeIn, buyDelivery } from '../engine/backtest/fees.js';
import type { CandleSeries } from '../engine/candles.js';
import {
  DEFAULT_FEE,
  DEFAULT_INSTRUMENT,
  type GridParams,
  MAX_GRIDS,
  MIN_GRIDS,
} from '../engine/grid/params.js';
import { planGrid } from '../engine/grid/plan.js';
import { err, ok, type Result } from '../engine/result.js';
import type { MarketInstrument } from '../exchange/exchange.js';
import { type CandleQuery, type CandleSource, CandlesUnavailable } from './ports/candles.js';

/*
 * The backtest use case, one flow for every surface: the arguments (one schema), the request they make (candles,
 * grid, fees), and the run (candles → plan → fill model). The CLI and the chat differ only in how they word a
 * problem and which arguments they offer: the command line takes flags, a chat a symbol, a range and days.
 */

export const DAY_MS = 86_400_000;

/** What is wrong with one argument, or with their combination; a surface's wording turns it into its line. */
export type ArgProblem =
  | { readonly kind: 'required'; readonly field: string }
  | { readonly kind: 'empty'; readonly field: string }
  | { readonly kind: 'decimal'; readonly field: string; readonly input: string }
  | { readonly kind: 'whole'; readonly field: string; readonly input: string }
  /** A whole number too large to count exactly. */
  | { readonly kind: 'unsafe'; readonly field: string; readonly input: string }
  | {
      readonly kind: 'range';
      readonly field: string;
      readonly min: number;
      readonly max: number;
      readonly input: string;
    }
  | { readonly kind: 'symbol'; readonly field: string }
  /** An on/off option given a value. */
  | { readonly kind: 'switch'; readonly field: string }
  | { readonly kind: 'date'; readonly field: string; readonly input: string }
  | { readonly kind: 'calendar'; readonly field: string; readonly input: string }
  | {
      readonly kind: 'choice';
      readonly field: string;
      readonly choices: readonly string[];
      readonly input: string;
    }
  | { readonly kind: 'both-sources' }
  /** Window arguments (from, to, interval, days) given with a file, which has its own. */
  | { readonly kind: 'window-with-file'; readonly fields: readonly string[] }
  | { readonly kind: 'no-source' }
  | { readonly kind: 'needs-dates'; readonly missing: readonly ('from' | 'to')[] }
  | { readonly kind: 'days-and-dates' }
  | { readonly kind: 'from-after-to'; readonly from: string; readonly to: string };

/** A surface's voice: the line for a problem, or undefined for the schema library's own. */
export type ArgWording = (problem: ArgProblem) => string | undefined;

const DECIMAL = /^(?:0|[1-9]\d*)(?:\.\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const text = (v: unknown) => String(v);

/** A spot symbol such as BTCUSDT, in any case. */
export const symbolField = (word: ArgWording, field = 'symbol') =>
  z
    .string({ error: () => word({ kind: 'required', field }) })
    .transform((s) => s.toUpperCase())
    .pipe(z.string().regex(/^[A-Z0-9]{2,30}$/, { error: () => word({ kind: 'symbol', field }) }));

/** A UTC calendar day, YYYY-MM-DD. */
export const dateField = (word: ArgWording, field: string) =>
  z
    .string()
    .regex(DATE, { error: (issue) => word({ kind: 'date', field, input: text(issue.input) }) })
    .refine(
      (d) => {
        if (!DATE.test(d)) return true; // the regex has said it
        const t = Date.parse(`${d}T00:00:00Z`);
        return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === d;
      },
      { error: (issue) => word({ kind: 'calendar', field, input: text(issue.input) }) },
    );

const decimalField = (word: ArgWording, field: string) =>
  z.string({ error: () => word({ kind: 'required', field }) }).regex(DECIMAL, {
    error: (issue) => word({ kind: 'decimal', field, input: text(issue.input) }),
  });

const wholeField = (word: ArgWording, field: string, min: number, max: number) => {
  const range = (issue: { input?: unknown }) =>
    word({ kind: 'range', field, min, max, input: text(issue.input) });
  return z
    .string({ error: () => word({ kind: 'required', field }) })
    .regex(/^\d+$/, { error: (issue) => word({ kind: 'whole', field, input: text(issue.input) }) })
    .transform(Number)
    .pipe(
      z
        .number()
        .int({ error: (issue) => word({ kind: 'unsafe', field, input: text(issue.input) }) })
        .min(min, { error: range })
        .max(max, { error: range }),
    );
};

const choiceField = <const T extends readonly [string, ...string[]]>(
  word: ArgWording,
  field: string,
  choices: T,
) =>
  z.enum(choices, { error: (issue) => word({ kind: 'choice', field, choices, input: text(issue.input) }) });

/** The longest window a backtest by days reads: a year of 1-minute candles. */
export const MAX_BACKTEST_DAYS = 365;

/**
 * The backtest's arguments, by name, as text (a command line's flags, a chat's words). `intervals` are the candle
 * intervals the store keeps. Where the candles come from is one of: a file (`data`), a symbol's stored candles over
 * whole UTC days (`from`, `to`), or over the last `days` days.
 */
export function backtestArgs(word: ArgWording, intervals: readonly [string, ...string[]] = ['1']) {
  return z.object({
    data: z
      .string()
      .min(1, { error: () => word({ kind: 'empty', field: 'data' }) })
      .optional(),
    symbol: symbolField(word).optional(),
    from: dateField(word, 'from').optional(),
    to: dateField(word, 'to').optional(),
    interval: choiceField(word, 'interval', intervals).optional(),
    lower: decimalField(word, 'lower'),
    upper: decimalField(word, 'upper'),
    grids: wholeField(word, 'grids', MIN_GRIDS, MAX_GRIDS),
    investment: decimalField(word, 'investment'),
    mode: choiceField(word, 'mode', ['arithmetic', 'geometric']).default('arithmetic'),
    fee: decimalField(word, 'fee').default(DEFAULT_FEE),
    'taker-fee': decimalField(word, 'taker-fee').default(DEFAULT_FEE),
    tick: decimalField(word, 'tick').default(DEFAULT_INSTRUMENT.tickSize),
    'qty-step': decimalField(word, 'qty-step').default(DEFAULT_INSTRUMENT.qtyStep),
    'min-qty': decimalField(word, 'min-qty').default(DEFAULT_INSTRUMENT.minQty),
    'min-value': decimalField(word, 'min-value').default(DEFAULT_INSTRUMENT.minValue),
    'stop-loss': decimalField(word, 'stop-loss').optional(),
    'take-profit': decimalField(word, 'take-profit').optional(),
    'buy-fee-in': choiceField(word, 'buy-fee-in', ['quote', 'base']).default('quote'),
    'trailing-up': z.boolean({ error: () => word({ kind: 'switch', field: 'trailing-up' }) }).optional(),
    'trailing-cap': decimalField(word, 'trailing-cap').optional(),
    trigger: decimalField(word, 'trigger').optional(),
    days: wholeField(word, 'days', 1, MAX_BACKTEST_DAYS).optional(),
  });
}

export type BacktestArgsSchema = ReturnType<typeof backtestArgs>;
export type BacktestArgs = z.output<BacktestArgsSchema>;

/** Exactly one source: a file, or a symbol with whole days (from and to) or a number of days. */
function sourceProblems(values: Readonly<Record<string, unknown>>): ArgProblem[] {
  const has = (field: string) => values[field] !== undefined;
  if (has('data') && has('symbol')) return [{ kind: 'both-sources' }];
  if (has('data')) {
    const extra = ['from', 'to', 'interval', 'days'].filter(has);
    return extra.length ? [{ kind: 'window-with-file', fields: extra }] : [];
  }
  if (!has('symbol')) return [{ kind: 'no-source' }];
  if (has('days')) return has('from') || has('to') ? [{ kind: 'days-and-dates' }] : [];
  const missing = (['from', 'to'] as const).filter((f) => !has(f));
  return missing.length ? [{ kind: 'needs-dates', missing }] : [];
}

export type BacktestFailure =
  /** The arguments: every problem found, in the order of the arguments. */
  | { readonly kind: 'usage'; readonly problems: readonly string[] }
  /** A grid that cannot be planned on these candles, or a symbol not traded here. */
  | { readonly kind: 'invalid'; readonly message: string }
  | { readonly kind: 'no-candles'; readonly message: string };

/**
 * Checks the arguments (by name, as text) against `schema`: every problem, the sources' first, then each argument's
 * in the schema's order.
 */
export function parseBacktestArgs(
  schema: BacktestArgsSchema,
  word: ArgWording,
  values: Readonly<Record<string, unknown>>,
): Result<BacktestArgs, BacktestFailure> {
  const problems = sourceProblems(values).map((p) => word(p) ?? p.kind);
  const parsed = schema.safeParse(values);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => i.message));
  if (problems.length > 0 || !parsed.success) return err({ kind: 'usage', problems });
  return ok(parsed.data);
}

export interface BacktestRequest {
  readonly candles: CandleQuery;
  readonly params: GridParams;
  /** Where buys pay their fee: quote (the default) or the base coin, as Bybit spot takes it. */
  readonly buyFeeIn: BuyFeeIn;
}

export interface BacktestDeps {
  readonly candles: CandleSource;
  /**
   * The exchange's instruments, where the backtest runs beside trading (the chat): a symbol is backtested with its
   * own filters, and one not traded here is refused. Without it (the CLI) the filters are the arguments'.
   */
  readonly instrument?: (symbol: string) => MarketInstrument | undefined;
  readonly nowMs?: () => number;
}

/** Backtests of a grid over stored or file candles, for the CLI and the chat alike. */
export class Backtests {
  constructor(private readonly deps: BacktestDeps) {}

  /** The request the arguments make: which candles, which grid. */
  request(args: BacktestArgs, word: ArgWording): Result<BacktestRequest, BacktestFailure> {
    let candles: CandleQuery;
    const interval = args.interval ?? '1';
    if (args.data !== undefined) {
      candles = { kind: 'file', path: args.data };
    } else if (args.days !== undefined) {
      const now = (this.deps.nowMs ?? Date.now)();
      candles = {
        kind: 'store',
        symbol: args.symbol!,
        interval,
        fromMs: now - args.days * DAY_MS,
        toMs: now,
      };
    } else {
      // Whole UTC days: from the start of `from` to the end of `to`.
      const fromMs = Date.parse(`${args.from!}T00:00:00Z`);
      const toMs = Date.parse(`${args.to!}T00:00:00Z`) + DAY_MS;
      if (toMs <= fromMs) {
        const problem: ArgProblem = { kind: 'from-after-to', from: args.from!, to: args.to! };
        return err({ kind: 'usage', problems: [word(problem) ?? problem.kind] });
      }
      candles = { kind: 'store', symbol: args.symbol!, interval, fromMs, toMs };
    }
    let instrument: GridParams['instrument'] = {
      tickSize: args.tick,
      qtyStep: args['qty-step'],
      minQty: args['min-qty'],
      minValue: args['min-value'],
    };
    if (this.deps.instrument && args.symbol !== undefined) {
      const traded = this.deps.instrument(args.symbol);
      if (!traded) return err({ kind: 'invalid', message: `unknown symbol ${args.symbol}` });
      instrument = traded;
    }
    return ok({
      candles,
      buyFeeIn: args['buy-fee-in'],
      params: {
        lower: args.lower,
        upper: args.upper,
        grids: args.grids,
        mode: args.mode,
        investment: args.investment,
        makerFee: args.fee,
        takerFee: args['taker-fee'],
        instrument,
        stopLoss: args['stop-loss'],
        takeProfit: args['take-profit'],
        ...(args['trailing-up'] === true && { trailingUp: true }),
        ...(args['trailing-cap'] !== undefined && { trailingCap: args['trailing-cap'] }),
        ...(args.trigger !== undefined && { trigger: args.trigger }),
      },
    });
  }

  /**
   * Loads the candles, plans the grid at the first candle's open (at its trigger price when it has one), and walks
   * the fill model over them.
   */
  async run(request: BacktestRequest): Promise<Result<FastRun, BacktestFailure>> {
    let candles: CandleSeries;
    try {
      candles = await this.deps.candles.load(request.candles);
    } catch (e) {
      if (e instanceof CandlesUnavailable) return err({ kind: 'no-candles', message: e.message });
      throw e;
    }
    const plan = planGrid(request.params, candles.open[0]!);
    if (!plan.ok) return err({ kind: 'invalid', message: plan.error.message });
    const delivered = buyDelivery(plan.value, request.buyFeeIn);
    if (!delivered.ok) return err({ kind: 'invalid', message: delivered.error });
    return ok(runFastBacktest(plan.value, candles, { buyFeeIn: request.buyFeeIn }));
  }
}
