import { PNL_PERIOD_NAMES, pnlChartPoints } from '../../app/reports.js';
import { PNL_PERIODS, type PnlPeriod } from '../../app/views.js';
import { renderPnlChart } from '../../charts/pnl.js';
import { renderProfitPerGridChart } from '../../charts/profit-per-grid.js';
import { type Button, failure, type Reply, reply } from '../reply.js';
import { arg } from './format.js';
import type { ChatDeps, CommandContext, CommandSpec } from './types.js';

export const pnl: CommandSpec = {
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
};

async function pnlReply(deps: ChatDeps, period: PnlPeriod): Promise<Reply> {
  const r = await deps.reports.pnl(period, deps.nowMs());
  // The chart spans the whole period: buckets before the first equity measurement show that first value.
  const points = pnlChartPoints(r, 'first-measured');
  const lines = [
    `net ${r.net} = realized ${r.realized} − fees ${r.fees} over ${r.fills} fills`,
    ...r.grids.map(
      (g) =>
        `${g.id} ${g.symbol} (${g.status}): ${g.periodNet} in the period, ${g.totalNet} in all, unrealized ${g.unrealized ?? '–'}`,
    ),
  ];
  if (points.length === 0) lines.push('no equity measured yet: the chart comes with the first risk check');
  const title = PNL_PERIOD_NAMES[period];
  return {
    ...reply(`P/L, ${title}: ${r.net}`, lines),
    ...(points.length
      ? {
          image: {
            png: renderPnlChart({ title: `P/L, ${title}`, points, currency: 'USDT' }),
            name: `pnl-${period}.png`,
          },
        }
      : {}),
  };
}

export const trades: CommandSpec = {
  name: 'trades',
  description: 'The latest fills',
  example: '/trades 10',
  args: [arg('count', 'How many (1-50, default 10)', 'integer', false)],
  access: 'read',
  run: async (ctx, [count = '10']) => tradesPage(ctx, count, 0),
};

/** The lines of a /trades page, in characters: within Discord's embed description with room to spare. */
const TRADES_PAGE_CHARS = 3800;

/** A page of /trades; its Newer and Older buttons come back through the dispatcher's press. */
export async function tradesPage(ctx: CommandContext, countText: string, offset: number): Promise<Reply> {
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

export const daily: CommandSpec = {
  name: 'daily',
  description: "Today's report now",
  example: '/daily',
  args: [],
  access: 'read',
  run: async (ctx) => dailyReply(ctx.deps, new Date(ctx.deps.nowMs()).toISOString().slice(0, 10)),
};

/** The daily report: the day's P/L per grid, with profit per grid as a chart. */
async function dailyReply(deps: ChatDeps, day: string): Promise<Reply> {
  const report = await deps.reports.periodReport(day);
  const image = await profitPerGridImage(deps);
  return { ...reply(report.title, report.lines), ...(image ? { image } : {}) };
}

/** Profit per grid since each began (realized less fees, and unrealized), for reports; null without grids. */
export async function profitPerGridImage(
  deps: Pick<ChatDeps, 'reports' | 'nowMs'>,
): Promise<Reply['image'] | null> {
  const chart = await deps.reports.profitPerGrid(deps.nowMs());
  if (!chart) return null;
  const png = renderProfitPerGridChart({
    title: `Profit per grid (all time), ${chart.day}`,
    grids: chart.grids,
    currency: 'USDT',
  });
  return { png, name: `profit-per-grid-${chart.day}.png` };
}
