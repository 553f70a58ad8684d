import { type ArgProblem, backtestArgs, parseBacktestArgs } from '../../app/backtest.js';
import { renderEquityChart } from '../../charts/render.js';
import { Dec } from '../../engine/money.js';
import { failure, reply } from '../reply.js';
import { arg, RANGE_ARGS } from './format.js';
import type { CommandSpec } from './types.js';

export const market: CommandSpec = {
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
};

const BACKTEST_EXAMPLE = '/backtest BTCUSDT 90000 110000 20 7';
/** Backtests are per 1,000 of quote: the chat asks for the range, not the money. */
const BACKTEST_INVESTMENT = '1000';

/** A chat's voice for the backtest's arguments: each named as the command's help names it. */
const chatWording = (p: ArgProblem): string | undefined => {
  switch (p.kind) {
    case 'required':
      if (p.field === 'symbol') return 'say which symbol, such as BTCUSDT';
      if (p.field === 'lower' || p.field === 'upper') return `say the ${p.field} price`;
      return `${p.field} must be a whole number`;
    case 'symbol':
      return 'symbol must look like BTCUSDT';
    case 'decimal':
      return `${p.field} must be a number`;
    case 'whole':
    case 'unsafe':
      return `${p.field} must be a whole number`;
    case 'range':
      // The words the grid planner uses for the same refusal.
      return p.field === 'grids'
        ? `grid count must be a whole number from ${p.min} to ${p.max}, got ${p.input}`
        : `${p.field} must be from ${p.min} to ${p.max}`;
    default:
      return undefined;
  }
};

const BacktestArgs = backtestArgs(chatWording);

export const backtest: CommandSpec = {
  name: 'backtest',
  description: 'Backtest a grid on stored candles',
  example: BACKTEST_EXAMPLE,
  args: [...RANGE_ARGS, arg('days', 'Days of stored candles (default 7)', 'integer', false)],
  access: 'read',
  run: async (ctx, [symbol, lower, upper, grids, days = '7']) => {
    const parsed = parseBacktestArgs(BacktestArgs, chatWording, {
      symbol,
      lower,
      upper,
      grids,
      days,
      investment: BACKTEST_INVESTMENT,
    });
    if (!parsed.ok)
      return failure(
        parsed.error.kind === 'usage' ? parsed.error.problems[0]! : parsed.error.message,
        BACKTEST_EXAMPLE,
      );
    const a = parsed.value;
    const { backtests } = ctx.deps;
    const request = backtests.request(a, chatWording);
    const run = request.ok ? await backtests.run(request.value) : request;
    if (!run.ok) {
      const f = run.error;
      if (f.kind === 'usage') return failure(f.problems[0]!, BACKTEST_EXAMPLE);
      // Nothing stored is said as the store says it, with the command that fetches the candles.
      return f.kind === 'no-candles' ? failure(f.message) : failure(f.message, BACKTEST_EXAMPLE);
    }
    const { result: r, series } = run.value;
    const pct = (v: string) => new Dec(v).div(r.investment).times(100).toFixed(2);
    const png = renderEquityChart({
      title: `${a.symbol} backtest: ${a.grids} grids ${a.lower}–${a.upper}, ${a.days} days`,
      openTimeMs: series.openTimeMs,
      equity: series.equity,
      gridProfit: series.gridProfit,
    });
    return {
      ...reply(`Backtest ${a.symbol}, ${a.days} days: net ${r.netProfit} (${pct(r.netProfit)} %)`, [
        `${r.candles} one-minute candles, ${r.startPrice} → ${r.endPrice}, ${BACKTEST_INVESTMENT} invested`,
        `quantity per grid ${r.qtyPerGrid}; ${r.buys} buys, ${r.sells} sells`,
        `grid profit ${r.gridProfit} − fees ${r.fees} = net ${r.netProfit}`,
        `equity ${r.equity} (${pct(new Dec(r.equity).minus(r.investment).toFixed())} %), max drawdown ${r.maxDrawdownPct.toFixed(2)} %`,
        ...(r.stopped ? [`stopped: ${r.stopped.reason} at ${r.stopped.price}`] : []),
      ]),
      image: { png, name: `backtest-${a.symbol}.png` },
    };
  },
};
