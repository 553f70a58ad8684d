import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { Actor, ServiceError } from '../app/actor.js';
import type { Deliveries } from '../app/deliveries.js';
import type { GridService, GridSummary } from '../app/grid-service.js';
import type { RiskService } from '../app/risk-service.js';
import { KLINE_INTERVALS, type KlineInterval } from '../data/kline-intervals.js';
import type { Result } from '../engine/result.js';
import { DAY_MS, dateArg, symbolArg } from './backtest-args.js';

const USAGE = `usage: npm run cli -- <command>
  grid list                         every grid with its state and P/L
  grid show <id|name|symbol>        one grid
  grid create <SYMBOL> <LOWER> <UPPER> <GRIDS> <INVESTMENT> [--geometric] [--stop-loss S] [--take-profit T]
                [--trailing-up] [--trailing-cap P] [--trigger P] [--name N] [--no-start]
  grid start|pause|resume|stop <id|name|symbol>
  report daily [YYYY-MM-DD]         the daily report (today by default)
  risk status                       the kill switch and its last incident
  risk kill [REASON]                stop every grid and cancel every order now
  risk reset --confirm              turn the kill switch off (after reading the incident)
  deliveries retry                  send the notifications that could not be delivered again (audited)
  data fetch --symbol S [--interval 1] [--days 30 | --from YYYY-MM-DD --to YYYY-MM-DD]
                                    store Bybit's closed candles in Postgres (for backtest --symbol)`;

const CLI_ACTOR: Actor = { id: userInfo().username || 'cli', via: 'cli', role: 'operator' };

function row(g: GridSummary): string {
  const label = g.demo ? ' [demo]' : '';
  return [
    `${g.id.padEnd(5)} ${g.name}${label}`,
    `  ${g.symbol} ${g.status}${g.stopReason ? ` (${g.stopReason})` : ''}, ${g.grids} ${g.mode} grids ${g.lower}-${g.upper}, investment ${g.investment}`,
    `  price ${g.lastPrice ?? '?'}, base ${g.baseQty}, quote ${g.quoteBalance}, open orders ${g.openOrders}`,
    `  realized ${g.realizedPnl}, fees ${g.fees}, unrealized ${g.unrealizedPnl ?? '?'}`,
  ].join('\n');
}

function print(r: Result<GridSummary | GridSummary[], ServiceError>): number {
  if (!r.ok) {
    process.stderr.write(`gridops: ${r.error.message}\n`);
    return 2;
  }
  const list = Array.isArray(r.value) ? r.value : [r.value];
  process.stdout.write(list.length ? `${list.map(row).join('\n')}\n` : 'no grids\n');
  return 0;
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  args.splice(i, 2);
  return value;
}

class UsageError extends Error {}

interface DataFetchArgs {
  readonly symbol: string;
  readonly interval: KlineInterval;
  /** The last N days up to the exchange's clock, or whole UTC days from..to (both included). */
  readonly range:
    | { readonly kind: 'days'; readonly days: number }
    | { readonly kind: 'dates'; readonly from: string; readonly to: string };
}

const DataFetchSchema = z.object({
  symbol: symbolArg,
  interval: z
    .enum(KLINE_INTERVALS, { error: `--interval must be one of ${KLINE_INTERVALS.join(', ')}` })
    .default('1'),
  days: z
    .string()
    .regex(/^\d+$/, { error: (i) => `--days must be a whole number of days, got "${String(i.input)}"` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(1, { error: '--days must be from 1 to 3650' })
        .max(3650, { error: '--days must be from 1 to 3650' }),
    )
    .optional(),
  from: dateArg('from').optional(),
  to: dateArg('to').optional(),
});

/** `data fetch` arguments, checked before anything connects; a UsageError's message is one line. */
function parseDataFetchArgs(argv: readonly string[]): DataFetchArgs {
  let values: Record<string, unknown>;
  try {
    const flag = { type: 'string' } as const;
    values = parseArgs({
      args: [...argv],
      options: { symbol: flag, interval: flag, days: flag, from: flag, to: flag },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0] ?? 'bad arguments');
  }
  const parsed = DataFetchSchema.safeParse(values);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join('; '));
  const { symbol, interval, days, from, to } = parsed.data;
  if (from === undefined && to === undefined)
    return { symbol, interval, range: { kind: 'days', days: days ?? 30 } };
  if (days !== undefined) throw new UsageError('give either --days N or --from/--to, not both');
  if (from === undefined || to === undefined) throw new UsageError('--from and --to go together');
  if (from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
  return { symbol, interval, range: { kind: 'dates', from, to } };
}

const isoMinute = (ms: number) => new Date(ms).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');

/** Backfills Bybit's closed candles into `ohlcv`. Public klines need no key, so paper mode talks to Bybit too. */
async function dataFetch(cli: CliServices, a: DataFetchArgs): Promise<number> {
  const { range } = a;
  const r = await cli.fetchKlines({
    symbol: a.symbol,
    interval: a.interval,
    // The exchange's clock decides which candle is still open, and where "the last N days" ends.
    range: (nowMs) => ({
      fromMs: range.kind === 'days' ? nowMs - range.days * DAY_MS : Date.parse(`${range.from}T00:00:00Z`),
      toMs: range.kind === 'days' ? nowMs : Date.parse(`${range.to}T00:00:00Z`) + DAY_MS,
    }),
  });
  if (!r.ok) {
    process.stderr.write(`gridops: ${r.message}\n`);
    return r.exitCode;
  }
  const span =
    range.kind === 'days' ? `${isoMinute(r.fromMs)}..${isoMinute(r.nowMs)}` : `${range.from}..${range.to}`;
  process.stdout.write(
    `fetched ${r.fetched} candles, stored ${r.stored} (${a.symbol} interval ${a.interval}, ${span})\n`,
  );
  return 0;
}

/** What the CLI needs, built by src/composition/cli.ts: the app's services, never its connections. */
export interface CliServices {
  readonly grids: GridService;
  readonly risk: RiskService;
  readonly deliveries: Deliveries;
  dailyReport(day: string): Promise<{ readonly title: string; readonly lines: readonly string[] }>;
  /**
   * Stores the exchange's closed candles of a range that `range` computes from the exchange's clock. A failure is
   * one line and an exit code: 2 for what the exchange refused (a bad symbol), 1 for anything else.
   */
  fetchKlines(a: {
    readonly symbol: string;
    readonly interval: KlineInterval;
    readonly range: (nowMs: number) => { readonly fromMs: number; readonly toMs: number };
  }): Promise<
    | { ok: true; fetched: number; stored: number; fromMs: number; nowMs: number }
    | { ok: false; message: string; exitCode: 1 | 2 }
  >;
}

async function run(cli: CliServices, argv: string[]): Promise<number> {
  const [group, command, ...rest] = argv;
  if (group === 'grid') {
    const ref = rest[0] ?? '';
    switch (command) {
      case 'list':
        return print(await cli.grids.list(CLI_ACTOR));
      case 'show':
        return print(await cli.grids.get(CLI_ACTOR, ref));
      case 'start':
        return print(await cli.grids.start(CLI_ACTOR, ref));
      case 'pause':
        return print(await cli.grids.pause(CLI_ACTOR, ref));
      case 'resume':
        return print(await cli.grids.resume(CLI_ACTOR, ref));
      case 'stop':
        return print(await cli.grids.stop(CLI_ACTOR, ref));
      case 'create': {
        const args = [...rest];
        const geometric = args.includes('--geometric');
        const noStart = args.includes('--no-start');
        const stopLoss = flag(args, '--stop-loss');
        const takeProfit = flag(args, '--take-profit');
        const trailingUp = args.includes('--trailing-up');
        const trailingCap = flag(args, '--trailing-cap');
        const trigger = flag(args, '--trigger');
        const name = flag(args, '--name');
        const [symbol, lower, upper, grids, investment] = args.filter((a) => !a.startsWith('--'));
        return print(
          await cli.grids.create(CLI_ACTOR, {
            symbol,
            lower,
            upper,
            grids,
            investment,
            mode: geometric ? 'geometric' : 'arithmetic',
            start: !noStart,
            ...(stopLoss ? { stopLoss } : {}),
            ...(takeProfit ? { takeProfit } : {}),
            ...(trailingUp ? { trailingUp } : {}),
            ...(trailingCap ? { trailingCap } : {}),
            ...(trigger ? { trigger } : {}),
            ...(name ? { name } : {}),
          }),
        );
      }
    }
  }
  if (group === 'risk') {
    const printState = (s: Awaited<ReturnType<typeof cli.risk.state>>) => {
      const i = s.lastIncident;
      process.stdout.write(
        `kill switch ${s.killed ? `ON since ${s.killedAt} (${s.trigger})` : 'off'}\n` +
          (i
            ? `last incident #${i.id} at ${i.at}: ${i.trigger} by ${i.actor}; ${i.gridsStopped} grids stopped, ` +
              `${i.ordersOpenBefore} open orders, ${i.ordersOpenAfter} left (${i.outcome}) in ${i.durationMs} ms\n`
            : ''),
      );
    };
    if (command === 'status') {
      printState(await cli.risk.state());
      return 0;
    }
    if (command === 'kill') {
      const r = await cli.risk.kill(CLI_ACTOR, `manual: ${rest.join(' ') || 'from the CLI'}`);
      if (!r.ok) {
        process.stderr.write(`gridops: ${r.error.message}\n`);
        return 2;
      }
      printState(await cli.risk.state());
      return 0;
    }
    if (command === 'reset') {
      if (!rest.includes('--confirm')) {
        printState(await cli.risk.state());
        process.stderr.write(
          'gridops: read the incident above, then run: npm run cli -- risk reset --confirm\n',
        );
        return 2;
      }
      const r = await cli.risk.reset(CLI_ACTOR);
      if (!r.ok) {
        process.stderr.write(`gridops: ${r.error.message}\n`);
        return 2;
      }
      printState(r.value);
      return 0;
    }
  }
  if (group === 'deliveries' && command === 'retry') {
    const r = await cli.deliveries.retryFailed(CLI_ACTOR);
    if (!r.ok) {
      process.stderr.write(`gridops: ${r.error.message}\n`);
      return 2;
    }
    process.stdout.write(
      `${r.value.retried} failed ${r.value.retried === 1 ? 'delivery' : 'deliveries'} sent again\n`,
    );
    return 0;
  }
  if (group === 'report' && command === 'daily') {
    const day = rest[0] ?? new Date().toISOString().slice(0, 10);
    const report = await cli.dailyReport(day);
    process.stdout.write(`${report.title}\n${report.lines.map((l) => `  ${l}`).join('\n')}\n`);
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

/**
 * Runs one CLI command. `parse` checks what can be checked before anything connects (a usage error is exit 2 without
 * touching Postgres); `open` builds the services (src/composition/cli.ts) and `close` ends them.
 */
export async function runCli(
  argv: readonly string[],
  open: () => Promise<{ services: CliServices; close(): Promise<void> } | number>,
): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  let fetchArgs: DataFetchArgs | null = null;
  if (argv[0] === 'data' && argv[1] === 'fetch') {
    try {
      fetchArgs = parseDataFetchArgs(argv.slice(2));
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      process.stderr.write(`gridops: data fetch: ${e.message}\n`);
      return 2;
    }
  }
  const opened = await open();
  if (typeof opened === 'number') return opened;
  try {
    return fetchArgs ? await dataFetch(opened.services, fetchArgs) : await run(opened.services, [...argv]);
  } finally {
    await opened.close();
  }
}
