import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import type { Actor, ServiceError } from '../app/actor.js';
import type { GridService, GridSummary } from '../app/grid-service.js';
import type { NotificationCategory } from '../app/ports.js';
import type { RiskService } from '../app/risk-service.js';
import { PNL_PERIODS, type PnlPeriod, type Views } from '../app/views.js';
import type { Result } from '../engine/result.js';
import type { MarketInstrument } from '../exchange/exchange.js';
import type { CoinGecko } from '../market/coingecko.js';
import type { PriceCache } from '../market/price-cache.js';
import { type BacktestRequest, backtestReply, dailyReply, gridDetailReply, pnlReply } from './chat-charts.js';
import type { NotifyPrefs } from './notify-prefs.js';
import { type Button, failure, type Reply, reply } from './reply.js';

export type Transport = 'telegram' | 'discord';

export interface ChatUser {
  readonly transport: Transport;
  readonly userId: string;
  readonly name?: string;
}

export interface ChatDeps {
  readonly ds: DataSource;
  readonly redis: Redis;
  readonly prefix: string;
  readonly grids: GridService;
  readonly risk: RiskService;
  readonly views: Views;
  readonly market: CoinGecko;
  readonly prices: PriceCache;
  readonly instrument: (symbol: string) => MarketInstrument | undefined;
  readonly symbols: readonly string[];
  readonly prefs: NotifyPrefs;
  readonly mode: string;
  readonly version: string;
  /** Who may do what: operators act, read-only users look; anyone else is refused. */
  readonly roles: Record<
    Transport,
    { readonly operators: readonly string[]; readonly readonly: readonly string[] }
  >;
  readonly nowMs: () => number;
  /** How long a confirmation button stays valid. */
  readonly confirmTtlMs?: number;
}

export type ArgKind = 'symbol' | 'grid' | 'integer' | 'decimal' | 'word';

export interface ArgSpec {
  readonly name: string;
  readonly description: string;
  readonly kind: ArgKind;
  readonly required: boolean;
  readonly choices?: readonly string[];
}

export interface CommandSpec {
  readonly name: string;
  readonly description: string;
  readonly example: string;
  readonly args: readonly ArgSpec[];
  /** 'read' commands are open to read-only users; 'operate' ones need an operator. */
  readonly access: 'read' | 'operate';
  /** Destructive: answered with a confirmation only the asker can press, valid for a minute. */
  readonly confirm?: (ctx: CommandContext, args: readonly string[]) => Promise<Reply | { prompt: Reply }>;
  readonly run: (ctx: CommandContext, args: readonly string[]) => Promise<Reply>;
}

export interface CommandContext {
  readonly actor: Actor;
  readonly user: ChatUser;
  readonly deps: ChatDeps;
}

const arg = (
  name: string,
  description: string,
  kind: ArgKind,
  required = true,
  choices?: readonly string[],
): ArgSpec => ({ name, description, kind, required, ...(choices ? { choices } : {}) });

const CATEGORIES: readonly NotificationCategory[] = ['fills', 'lifecycle', 'risk', 'tradingview', 'report'];

/** A one-line explanation of a service refusal; the user can act on it. */
function refusal(error: ServiceError, example?: string): Reply {
  const hint = error.kind === 'invalid' ? example : undefined;
  return failure(error.message, hint);
}

const money = (v: string | null | undefined) => v ?? '–';

function gridLines(g: GridSummary, deps: ChatDeps): string[] {
  const inst = deps.instrument(g.symbol);
  const base = inst?.baseAsset ?? '';
  return [
    `${g.id} ${g.symbol} · ${g.status}${g.stopReason ? ` (${g.stopReason})` : ''} · ${g.demo ? 'demo' : deps.mode}`,
    `price ${money(g.lastPrice)} · range ${g.lower}–${g.upper} · ${g.grids} ${g.mode} grids`,
    `position ${g.baseQty} ${base} · ${g.openOrders} open orders`,
    `realized ${g.realizedPnl} (fees ${g.fees}) · unrealized ${money(g.unrealizedPnl)}`,
  ];
}

async function lifecycleAll(
  ctx: CommandContext,
  ref: string,
  action: 'pause' | 'resume' | 'stop',
): Promise<Reply> {
  const { grids } = ctx.deps;
  const verb = { pause: 'paused', resume: 'resumed', stop: 'stopped' }[action];
  const call = (r: string): Promise<Result<GridSummary, ServiceError>> => grids[action](ctx.actor, r);
  if (ref.toLowerCase() !== 'all') {
    const r = await call(ref);
    if (!r.ok) return refusal(r.error);
    return {
      ...reply(`${r.value.id} ${r.value.symbol} ${verb}`, gridLines(r.value, ctx.deps)),
      severity: 'success',
    };
  }
  const listed = await grids.list(ctx.actor);
  if (!listed.ok) return refusal(listed.error);
  const eligible = listed.value.filter((g) =>
    action === 'pause'
      ? g.status === 'running'
      : action === 'resume'
        ? g.status === 'paused'
        : g.status !== 'stopped',
  );
  if (eligible.length === 0) return reply(`No grid to ${action}`);
  const lines: string[] = [];
  for (const g of eligible) {
    const r = await call(g.id);
    lines.push(r.ok ? `${g.id} ${g.symbol}: ${verb}` : `${g.id} ${g.symbol}: ${r.error.message}`);
  }
  return {
    ...reply(`${eligible.length} grid${eligible.length === 1 ? '' : 's'} ${verb}`, lines),
    severity: 'success',
  };
}

function lifecycleCommand(
  action: 'pause' | 'resume' | 'stop',
  description: string,
  confirm?: CommandSpec['confirm'],
): CommandSpec {
  return {
    name: action,
    description,
    example: `/${action} BTCUSDT`,
    args: [arg('symbol', 'Grid id, name, symbol, or all', 'grid')],
    access: 'operate',
    ...(confirm ? { confirm } : {}),
    run: (ctx, [ref]) => lifecycleAll(ctx, ref!, action),
  };
}

/** The range a grid spans, as /create and /backtest take it. */
const RANGE_ARGS: readonly ArgSpec[] = [
  arg('symbol', 'Symbol such as BTCUSDT', 'symbol'),
  arg('lower', 'Lowest grid price', 'decimal'),
  arg('upper', 'Highest grid price', 'decimal'),
  arg('grids', 'Number of grids (2-500)', 'integer'),
];

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'help',
    description: 'What this bot can do',
    example: '/help',
    args: [],
    access: 'read',
    run: async (ctx) => {
      const mine = COMMANDS.filter((c) => c.access === 'read' || ctx.actor.role === 'operator');
      return reply(
        'GridOps commands',
        mine.map((c) => `${c.example} — ${c.description}${c.confirm ? ' (asks to confirm)' : ''}`),
      );
    },
  },
  {
    name: 'status',
    description: 'Every grid at a glance',
    example: '/status',
    args: [],
    access: 'read',
    run: async (ctx) => {
      const [listed, killed] = await Promise.all([ctx.deps.grids.list(ctx.actor), ctx.deps.risk.isKilled()]);
      if (!listed.ok) return refusal(listed.error);
      const grids = listed.value.filter((g) => g.status !== 'stopped');
      const stopped = listed.value.length - grids.length;
      const lines = grids.flatMap((g) => [...gridLines(g, ctx.deps), '']);
      if (stopped) lines.push(`${stopped} stopped grid${stopped === 1 ? '' : 's'} not shown`);
      if (grids.length === 0) lines.push('No active grid. Create one with /create.');
      return {
        ...reply(
          `${killed ? 'KILL SWITCH ON · ' : ''}${grids.length} active grid${grids.length === 1 ? '' : 's'} · ${ctx.deps.mode}`,
          lines,
        ),
        severity: killed ? 'critical' : 'info',
      };
    },
  },
  {
    name: 'grid',
    description: 'One grid in detail, with its ladder',
    example: '/grid BTCUSDT',
    args: [arg('symbol', 'Grid id, name or symbol', 'grid')],
    access: 'read',
    run: async (ctx, [ref]) => {
      const g = await ctx.deps.grids.get(ctx.actor, ref!);
      if (!g.ok) return refusal(g.error);
      return gridDetailReply(ctx.deps, g.value, gridLines(g.value, ctx.deps));
    },
  },
  {
    name: 'pnl',
    description: 'Profit and loss over a period, with a chart',
    example: '/pnl week',
    args: [arg('period', 'day, week, month or all', 'word', false, PNL_PERIODS)],
    access: 'read',
    run: async (ctx, [period = 'day']) => {
      if (!(PNL_PERIODS as readonly string[]).includes(period))
        return failure(`unknown period "${period}": use day, week, month or all`, '/pnl week');
      return pnlReply(ctx.deps, period as PnlPeriod);
    },
  },
  {
    name: 'trades',
    description: 'The latest fills',
    example: '/trades 10',
    args: [arg('count', 'How many (1-50, default 10)', 'integer', false)],
    access: 'read',
    run: async (ctx, [count = '10']) => tradesPage(ctx, count, 0),
  },
  {
    name: 'orders',
    description: 'Open orders of a symbol',
    example: '/orders BTCUSDT',
    args: [arg('symbol', 'Symbol such as BTCUSDT', 'symbol')],
    access: 'read',
    run: async (ctx, [symbol]) => {
      const orders = await ctx.deps.views.openOrders(symbol!.toUpperCase());
      if (orders.length === 0) return reply(`No open orders on ${symbol!.toUpperCase()}`);
      return reply(
        `${orders.length} open orders on ${symbol!.toUpperCase()}`,
        orders.map(
          (o) =>
            `${o.gridId} ${o.side === 'buy' ? 'BUY ' : 'SELL'} ${o.qty} @ ${o.price ?? 'market'}` +
            (o.held ? ` · held (${o.held}): placed when it clears` : ''),
        ),
      );
    },
  },
  {
    name: 'balance',
    description: 'The account balances',
    example: '/balance',
    args: [],
    access: 'read',
    run: async (ctx) => {
      const balances = await ctx.deps.views.balances();
      return reply(
        `Balances (${ctx.deps.mode})`,
        balances.length ? balances.map((b) => `${b.asset}: ${b.total} (free ${b.free})`) : ['nothing held'],
      );
    },
  },
  {
    name: 'risk',
    description: 'Drawdown, error rate, breakers and the kill switch',
    example: '/risk',
    args: [],
    access: 'read',
    run: async (ctx) => {
      const r = await ctx.deps.views.risk();
      const f = r.latest;
      const lines = [
        r.killed ? `KILL SWITCH ON since ${r.killedAt} (${r.trigger})` : 'kill switch off',
        f
          ? `drawdown ${f.drawdownPct} % (${f.drawdownLevel}) · equity ${f.equity}, peak ${f.peak}`
          : 'no risk check yet',
        ...(f
          ? [
              `exchange error rate ${f.errorRatePct} % (${f.errorRateLevel}): ${f.failedCalls} of ${f.calls} calls failed, ${f.retries} retries`,
            ]
          : []),
        `volatility breakers: ${r.breakers.length ? r.breakers.join(', ') : 'none tripped'}`,
      ];
      if (r.lastIncident) {
        const i = r.lastIncident;
        lines.push(
          `last incident #${i.id} at ${i.at}: ${i.trigger} by ${i.actor}; ${i.gridsStopped} grids stopped, ${i.ordersOpenBefore} orders, ${i.ordersOpenAfter} left (${i.outcome}) in ${i.durationMs} ms; sell-off ${i.sellOff}`,
        );
      }
      return {
        ...reply('Risk', lines),
        severity: r.killed ? 'critical' : f && f.drawdownLevel !== 'ok' ? 'warning' : 'info',
      };
    },
  },
  {
    name: 'create',
    description: 'Create and start a grid (shows a preview first)',
    example: '/create BTCUSDT 90000 110000 20 1000 [geometric]',
    args: [
      ...RANGE_ARGS,
      arg('investment', 'Quote to invest', 'decimal'),
      arg('mode', 'arithmetic (default) or geometric', 'word', false, ['arithmetic', 'geometric']),
    ],
    access: 'operate',
    confirm: async (ctx, args) => {
      const input = createInput(args);
      if (!input.ok) return input.reply;
      const preview = await ctx.deps.grids.preview(ctx.actor, input.value);
      if (!preview.ok) return refusal(preview.error, CREATE_EXAMPLE);
      const p = preview.value;
      return {
        prompt: reply(`Create a ${p.symbol} grid?`, [
          `${p.grids} ${p.mode} grids from ${p.lower} to ${p.upper}, ${p.investment} invested`,
          `spacing ${p.spacing} · quantity per grid ${p.qtyPerGrid}`,
          `profit per grid after fees: ${p.profitPerGridMin === p.profitPerGridMax ? p.profitPerGridMin : `${p.profitPerGridMin} to ${p.profitPerGridMax}`}`,
          `at ${p.price}: ${p.buysBelow} buys below, ${p.baseToBuy} bought at market for the lines above`,
        ]),
      };
    },
    run: async (ctx, args) => {
      const input = createInput(args);
      if (!input.ok) return input.reply;
      const created = await ctx.deps.grids.create(ctx.actor, input.value);
      if (!created.ok) return refusal(created.error, CREATE_EXAMPLE);
      return {
        ...reply(`Grid ${created.value.id} created`, gridLines(created.value, ctx.deps)),
        severity: 'success',
      };
    },
  },
  lifecycleCommand('pause', 'Pause a grid (or all): its orders are cancelled, it keeps what it holds'),
  lifecycleCommand('resume', 'Resume a paused grid (or all)'),
  lifecycleCommand('stop', 'Stop a grid (or all) for good: its orders are cancelled', async (ctx, [ref]) => {
    if (ref!.toLowerCase() === 'all')
      return { prompt: reply('Stop every grid?', ['their orders are cancelled; what they hold stays']) };
    const g = await ctx.deps.grids.get(ctx.actor, ref!);
    if (!g.ok) return refusal(g.error);
    return { prompt: reply(`Stop ${g.value.id} ${g.value.symbol}?`, gridLines(g.value, ctx.deps)) };
  }),
  {
    name: 'kill',
    description: 'Kill switch: stop every grid and cancel every order',
    example: '/kill',
    args: [],
    access: 'operate',
    confirm: async () => ({
      prompt: {
        ...reply('Pull the kill switch?', [
          'every grid stops and every order is cancelled; only /reset turns it off',
        ]),
        severity: 'critical',
      },
    }),
    run: async (ctx) => {
      const killed = await ctx.deps.risk.kill(ctx.actor, `manual: ${ctx.user.transport} ${ctx.actor.id}`);
      if (!killed.ok) return refusal(killed.error);
      const i = killed.value;
      return {
        ...reply(`Kill switch ON (incident #${i.id})`, [
          `${i.gridsStopped} grids stopped; ${i.ordersOpenBefore} open orders, ${i.ordersOpenAfter} left (${i.outcome}) in ${i.durationMs} ms`,
        ]),
        severity: 'critical',
      };
    },
  },
  {
    name: 'reset',
    description: 'Turn the kill switch off (after reading the incident)',
    example: '/reset',
    args: [],
    access: 'operate',
    confirm: async (ctx) => {
      const state = await ctx.deps.risk.state();
      if (!state.killed) return failure('the kill switch is not on');
      const i = state.lastIncident;
      return {
        prompt: reply('Turn the kill switch off?', [
          `on since ${state.killedAt} (${state.trigger})`,
          ...(i
            ? [
                `incident #${i.id}: ${i.gridsStopped} grids stopped, ${i.ordersOpenBefore} orders, ${i.ordersOpenAfter} left (${i.outcome})`,
              ]
            : []),
          'grids stay stopped; create or resume them yourself',
        ]),
      };
    },
    run: async (ctx) => {
      const r = await ctx.deps.risk.reset(ctx.actor);
      if (!r.ok) return refusal(r.error);
      return {
        ...reply('Kill switch off', ['new grids may start; stopped grids stay stopped']),
        severity: 'success',
      };
    },
  },
  {
    name: 'backtest',
    description: 'Backtest a grid on stored candles',
    example: '/backtest BTCUSDT 90000 110000 20 7',
    args: [...RANGE_ARGS, arg('days', 'Days of stored candles (default 7)', 'integer', false)],
    access: 'read',
    run: async (ctx, args) => {
      const parsed = BacktestArgs.safeParse({
        symbol: args[0],
        lower: args[1],
        upper: args[2],
        grids: args[3],
        days: args[4] ?? '7',
      });
      if (!parsed.success)
        return failure(parsed.error.issues[0]!.message, '/backtest BTCUSDT 90000 110000 20 7');
      return backtestReply(ctx.deps, parsed.data as BacktestRequest);
    },
  },
  {
    name: 'market',
    description: 'Prices, top movers and trending coins',
    example: '/market',
    args: [],
    access: 'read',
    run: async (ctx) => {
      const ours = (await ctx.deps.prices.all()).map((p) => `${p.symbol} ${p.price}`);
      const lines = [`ours: ${ours.length ? ours.join(' · ') : 'no prices yet'}`];
      try {
        const [movers, trending] = await Promise.all([
          ctx.deps.market.topMovers(3),
          ctx.deps.market.trending(),
        ]);
        const fmt = (c: { symbol: string; price: string; change24hPct: string | null }) =>
          `${c.symbol} ${c.price} (${c.change24hPct ?? '?'} %)`;
        lines.push(`top gainers: ${movers.gainers.map(fmt).join(' · ')}`);
        lines.push(`top losers: ${movers.losers.map(fmt).join(' · ')}`);
        lines.push(
          `trending: ${trending
            .slice(0, 7)
            .map((t) => t.symbol)
            .join(', ')}`,
        );
      } catch (e) {
        lines.push(`market overview unavailable: ${(e as Error).message}`);
      }
      return reply('Market', lines);
    },
  },
  {
    name: 'daily',
    description: "Today's report now",
    example: '/daily',
    args: [],
    access: 'read',
    run: async (ctx) => dailyReply(ctx.deps, new Date(ctx.deps.nowMs()).toISOString().slice(0, 10)),
  },
  {
    name: 'notify',
    description: 'Which notifications reach you: /notify fills off',
    example: '/notify fills off',
    args: [
      arg('category', 'fills, lifecycle, risk, tradingview or report', 'word', false, CATEGORIES),
      arg('state', 'on or off', 'word', false, ['on', 'off']),
    ],
    access: 'read',
    run: async (ctx, [category, state]) => {
      const { prefs } = ctx.deps;
      if (category !== undefined) {
        if (!(CATEGORIES as readonly string[]).includes(category))
          return failure(`unknown category "${category}": use ${CATEGORIES.join(', ')}`, '/notify fills off');
        if (state !== 'on' && state !== 'off') return failure('say on or off', `/notify ${category} off`);
        await prefs.set(
          ctx.user.transport,
          ctx.user.userId,
          category as NotificationCategory,
          state === 'on',
        );
      }
      const muted = await prefs.muted(ctx.user.transport, ctx.user.userId);
      return reply(
        'Your notifications',
        CATEGORIES.map((c) => `${c}: ${muted.includes(c) ? 'off' : 'on'}`).concat([
          'kill-switch alerts always reach you',
        ]),
      );
    },
  },
  {
    name: 'version',
    description: 'Version and trading mode',
    example: '/version',
    args: [],
    access: 'read',
    run: async (ctx) =>
      reply(`GridOps ${ctx.deps.version}`, [`mode ${ctx.deps.mode}`, `node ${process.version}`]),
  },
];

const CREATE_EXAMPLE = '/create BTCUSDT 90000 110000 20 1000';

const BacktestArgs = z.object({
  symbol: z
    .string({ error: 'say which symbol, such as BTCUSDT' })
    .transform((s) => s.toUpperCase())
    .pipe(z.string().regex(/^[A-Z0-9]{2,20}$/, { error: 'symbol must look like BTCUSDT' })),
  lower: z
    .string({ error: 'say the lower price' })
    .regex(/^\d+(\.\d+)?$/, { error: 'lower must be a number' }),
  upper: z
    .string({ error: 'say the upper price' })
    .regex(/^\d+(\.\d+)?$/, { error: 'upper must be a number' }),
  grids: z.coerce
    .number({ error: 'grids must be a whole number' })
    .int({ error: 'grids must be a whole number' }),
  days: z.coerce
    .number({ error: 'days must be a whole number' })
    .int({ error: 'days must be a whole number' })
    .min(1, { error: 'days must be from 1 to 365' })
    .max(365, { error: 'days must be from 1 to 365' }),
});

function createInput(args: readonly string[]): { ok: true; value: unknown } | { ok: false; reply: Reply } {
  const [symbol, lower, upper, grids, investment, mode] = args;
  if (investment === undefined)
    return { ok: false, reply: failure('/create needs five values', CREATE_EXAMPLE) };
  if (mode !== undefined && mode !== 'geometric' && mode !== 'arithmetic')
    return {
      ok: false,
      reply: failure(`unknown mode "${mode}": arithmetic or geometric`, `${CREATE_EXAMPLE} geometric`),
    };
  return { ok: true, value: { symbol, lower, upper, grids, investment, ...(mode ? { mode } : {}) } };
}

async function tradesPage(ctx: CommandContext, countText: string, offset: number): Promise<Reply> {
  const count = Number(countText);
  if (!Number.isInteger(count) || count < 1 || count > 50)
    return failure('count must be from 1 to 50', '/trades 10');
  const trades = await ctx.deps.views.trades(count + offset + 1);
  const wanted = trades.slice(offset, offset + count);
  if (wanted.length === 0) return reply('No trades yet');
  // Each fill with the ids that find it in the exchange's history. A page stops short of the smaller message limit
  // (Discord's 4,096 characters; Telegram would split it), and Older goes on from where it stopped.
  const lines: string[] = [];
  let shown = 0;
  let length = 0;
  for (const t of wanted) {
    const fill = [
      `${t.at.slice(5, 16).replace('T', ' ')} ${t.gridId} ${t.symbol} ${t.side === 'buy' ? 'BUY ' : 'SELL'} ${t.qty} @ ${t.price} · fee ${t.fee} ${t.feeCoin} · net ${t.net}`,
      `   exec ${t.execId} · order ${t.orderId ?? '–'} · client ${t.clientOrderId}`,
    ];
    const added = fill.reduce((n, l) => n + l.length + 1, 0);
    if (shown > 0 && length + added > TRADES_PAGE_CHARS) break;
    lines.push(...fill);
    length += added;
    shown++;
  }
  const buttons: Button[] = [];
  if (offset > 0)
    buttons.push({ label: '‹ Newer', data: `pg:trades:${count}:${Math.max(0, offset - count)}` });
  if (trades.length > offset + shown)
    buttons.push({ label: 'Older ›', data: `pg:trades:${count}:${offset + shown}` });
  return reply(`Trades ${offset + 1}–${offset + shown}`, lines, buttons.length ? { buttons } : {});
}

/** The lines of a /trades page, in characters: within Discord's embed description with room to spare. */
const TRADES_PAGE_CHARS = 3800;

const byName = new Map(COMMANDS.map((c) => [c.name, c]));

export function findCommand(name: string): CommandSpec | undefined {
  return byName.get(name.toLowerCase());
}

interface Pending {
  readonly transport: Transport;
  readonly userId: string;
  readonly command: string;
  readonly args: readonly string[];
}

/**
 * Runs chat commands the same way for every transport: authorizes the user, validates the arguments, asks for a
 * confirmation where the command is destructive, executes through the services, audits every attempt, and turns
 * every failure into a one-line answer (never a stack trace, never silence).
 */
export class ChatCommands {
  constructor(readonly deps: ChatDeps) {}

  actorFor(user: ChatUser): Actor | null {
    const roles = this.deps.roles[user.transport];
    if (roles.operators.includes(user.userId))
      return { id: user.userId, via: user.transport, role: 'operator' };
    if (roles.readonly.includes(user.userId))
      return { id: user.userId, via: user.transport, role: 'readonly' };
    return null;
  }

  /** A command as typed or as a slash command's options, in the order the command declares them. */
  async run(user: ChatUser, name: string, args: readonly string[]): Promise<Reply> {
    const command = findCommand(name);
    const actor = this.actorFor(user);
    if (!actor) {
      await this.audit(user, null, `/${name}`, 'refused: unauthorized');
      return failure('You are not allowed to use this bot.');
    }
    if (!command) {
      await this.audit(user, actor, `/${name}`, 'refused: unknown command');
      return failure(`unknown command /${name}`, '/help');
    }
    if (command.access === 'operate' && actor.role !== 'operator') {
      await this.audit(user, actor, `/${command.name}`, 'refused: read-only');
      return failure(`/${command.name} needs an operator; you may only read`);
    }
    const missing = command.args.find((a, i) => a.required && (args[i] === undefined || args[i] === ''));
    if (missing) {
      await this.audit(user, actor, `/${command.name}`, `refused: missing ${missing.name}`);
      return failure(`/${command.name} needs ${missing.name} (${missing.description})`, command.example);
    }
    const ctx: CommandContext = { actor, user, deps: this.deps };
    try {
      if (command.confirm) {
        const prepared = await command.confirm(ctx, args);
        if (!('prompt' in prepared)) {
          await this.audit(user, actor, `/${command.name}`, 'refused: invalid', { args });
          return prepared;
        }
        const id = await this.remember({
          transport: user.transport,
          userId: user.userId,
          command: command.name,
          args,
        });
        await this.audit(user, actor, `/${command.name}`, 'awaiting confirmation', { args });
        return {
          ...prepared.prompt,
          lines: [...prepared.prompt.lines, `Confirm within ${Math.round(this.ttlMs / 1000)} s.`],
          severity: prepared.prompt.severity === 'info' ? 'warning' : prepared.prompt.severity,
          buttons: [
            { label: 'Confirm', data: `ok:${id}`, style: 'danger' },
            { label: 'Cancel', data: `no:${id}`, style: 'secondary' },
          ],
        };
      }
      const out = await command.run(ctx, args);
      await this.audit(
        user,
        actor,
        `/${command.name}`,
        out.severity === 'error' ? 'failed' : 'ok',
        args.length ? { args } : null,
      );
      return out;
    } catch (e) {
      await this.audit(user, actor, `/${command.name}`, `error: ${(e as Error).message}`);
      return failure(
        `/${command.name} failed: ${(e as Error).message}. Nothing was changed by this message; try again.`,
      );
    }
  }

  /** A button press: a confirmation, a cancellation, or a page of a long list. */
  async press(user: ChatUser, data: string): Promise<Reply> {
    const actor = this.actorFor(user);
    if (!actor) {
      await this.audit(user, null, `press ${data}`, 'refused: unauthorized');
      // A stranger's press on someone's prompt or list: said to the stranger alone, the message stays as it is.
      return { ...failure('You are not allowed to use this bot.'), pressRefused: true };
    }
    const page = /^pg:trades:(\d+):(\d+)$/.exec(data);
    if (page) return tradesPage({ actor, user, deps: this.deps }, page[1]!, Number(page[2]));
    const m = /^(ok|no):([0-9a-f]{16})$/.exec(data);
    if (!m) return failure('this button is not understood (it may belong to an older version)');
    const key = this.key(m[2]!);
    const raw = await this.deps.redis.get(key);
    if (!raw) {
      await this.audit(user, actor, 'confirm', 'refused: expired');
      return failure('This confirmation has expired or was used already; send the command again.');
    }
    const pending = JSON.parse(raw) as Pending;
    if (pending.transport !== user.transport || pending.userId !== user.userId) {
      await this.audit(user, actor, `confirm /${pending.command}`, 'refused: not the asker');
      return { ...failure('Only the user who asked can confirm this.'), pressRefused: true };
    }
    // Taken at most once, even if the button is pressed twice at the same moment.
    if ((await this.deps.redis.del(key)) === 0) return failure('This confirmation was used already.');
    if (m[1] === 'no') {
      await this.audit(user, actor, `/${pending.command}`, 'cancelled');
      return reply(`/${pending.command} cancelled`, ['nothing was changed']);
    }
    const command = findCommand(pending.command)!;
    if (command.access === 'operate' && actor.role !== 'operator')
      return failure(`/${command.name} needs an operator`);
    try {
      const out = await command.run({ actor, user, deps: this.deps }, pending.args);
      await this.audit(
        user,
        actor,
        `/${command.name}`,
        out.severity === 'error' ? 'failed' : 'confirmed: ok',
        { args: pending.args },
      );
      return out;
    } catch (e) {
      await this.audit(user, actor, `/${command.name}`, `error: ${(e as Error).message}`);
      return failure(`/${command.name} failed: ${(e as Error).message}`);
    }
  }

  /** Symbols for autocomplete: the market's and those of existing grids, filtered by what was typed. */
  async suggestSymbols(typed: string): Promise<string[]> {
    const rows = (await this.deps.ds.query(`SELECT DISTINCT symbol FROM grid ORDER BY symbol`)) as {
      symbol: string;
    }[];
    const all = [...new Set([...this.deps.symbols, ...rows.map((r) => r.symbol)])].sort();
    const t = typed.toUpperCase();
    return all.filter((s) => s.includes(t)).slice(0, 25);
  }

  private get ttlMs(): number {
    return this.deps.confirmTtlMs ?? 60_000;
  }

  private key(id: string): string {
    return `${this.deps.prefix}:confirm:${id}`;
  }

  private async remember(p: Pending): Promise<string> {
    const id = randomBytes(8).toString('hex');
    await this.deps.redis.set(this.key(id), JSON.stringify(p), 'PX', this.ttlMs);
    return id;
  }

  private async audit(
    user: ChatUser,
    actor: Actor | null,
    action: string,
    outcome: string,
    detail: unknown = null,
  ): Promise<void> {
    await this.deps.ds.query(
      `INSERT INTO audit_log (actor, via, role, action, target, outcome, detail) VALUES ($1, $2, $3, $4, 'chat', $5, $6)`,
      [
        user.userId,
        user.transport,
        actor?.role ?? 'none',
        action,
        outcome,
        detail === null
          ? null
          : JSON.stringify({ ...(detail as object), ...(user.name ? { name: user.name } : {}) }),
      ],
    );
  }
}
