import type { ServiceError } from '../../app/actor.js';
import type { GridSummary } from '../../app/grid-service.js';
import { canApply, LIFECYCLE_PAST, type LifecycleAction } from '../../app/lifecycle.js';
import { renderGridLadderChart } from '../../charts/ladder.js';
import type { Result } from '../../engine/result.js';
import { failure, type Reply, reply } from '../reply.js';
import { arg, gridLines, num, RANGE_ARGS, refusal } from './format.js';
import type { ChatDeps, CommandContext, CommandSpec } from './types.js';

const CREATE_EXAMPLE = '/create BTCUSDT 90000 110000 20 1000';

export const status: CommandSpec = {
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
};

export const grid: CommandSpec = {
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
};

/** A grid's figures with its ladder drawn: lines, resting orders and the price. */
async function gridDetailReply(deps: ChatDeps, g: GridSummary, lines: readonly string[]): Promise<Reply> {
  const ladder = await deps.views.ladder(g.id);
  const extra = [
    `stop-loss ${g.stopLoss ?? 'none'} · take-profit ${g.takeProfit ?? 'none'} · investment ${g.investment}`,
    `created ${g.createdAt}`,
  ];
  if (!ladder || ladder.lines.length < 2 || ladder.price === null)
    return reply(`${g.id} ${g.symbol}`, [...lines, ...extra]);
  const png = renderGridLadderChart({
    symbol: g.symbol,
    lines: ladder.lines.map(num),
    price: num(ladder.price),
    buys: ladder.buys.map(num),
    sells: ladder.sells.map(num),
    ...(ladder.stopLoss ? { stopLoss: num(ladder.stopLoss) } : {}),
    ...(ladder.takeProfit ? { takeProfit: num(ladder.takeProfit) } : {}),
  });
  return {
    ...reply(`${g.id} ${g.symbol}`, [
      ...lines,
      ...extra,
      `ladder: ${ladder.buys.length} buys, ${ladder.sells.length} sells resting around ${ladder.price}`,
    ]),
    image: { png, name: `ladder-${g.id}.png` },
  };
}

export const orders: CommandSpec = {
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
};

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

export const create: CommandSpec = {
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
};

/** One grid, or "all": every grid the action applies to (the app's lifecycle table), each in turn. */
async function lifecycle(ctx: CommandContext, ref: string, action: LifecycleAction): Promise<Reply> {
  const { grids } = ctx.deps;
  const verb = LIFECYCLE_PAST[action];
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
  const eligible = listed.value.filter((g) => canApply(action, g.status));
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
  action: LifecycleAction,
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
    run: (ctx, [ref]) => lifecycle(ctx, ref!, action),
  };
}

export const pause = lifecycleCommand(
  'pause',
  'Pause a grid (or all): its orders are cancelled, it keeps what it holds',
);

export const resume = lifecycleCommand('resume', 'Resume a paused grid (or all)');

export const stop = lifecycleCommand(
  'stop',
  'Stop a grid (or all) for good: its orders are cancelled',
  async (ctx, [ref]) => {
    if (ref!.toLowerCase() === 'all')
      return { prompt: reply('Stop every grid?', ['their orders are cancelled; what they hold stays']) };
    const g = await ctx.deps.grids.get(ctx.actor, ref!);
    if (!g.ok) return refusal(g.error);
    return { prompt: reply(`Stop ${g.value.id} ${g.value.symbol}?`, gridLines(g.value, ctx.deps)) };
  },
);
