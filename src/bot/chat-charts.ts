import type { GridSummary } from '../app/grid-service.js';
import type { PnlPeriod } from '../app/views.js';
import { renderGridLadderChart } from '../charts/ladder.js';
import { renderPnlChart } from '../charts/pnl.js';
import { renderProfitPerGridChart } from '../charts/profit-per-grid.js';
import { renderEquityChart } from '../charts/render.js';
import { loadCandles, StoredCandlesError } from '../data/ohlcv-store.js';
import { runFastBacktest } from '../engine/backtest/fast.js';
import { DEFAULT_FEE } from '../engine/grid/params.js';
import { planGrid } from '../engine/grid/plan.js';
import { Dec, MoneyError } from '../engine/money.js';
import { buildDailyReport } from '../jobs/reports.js';
import type { ChatDeps } from './commands.js';
import { failure, type Reply, reply } from './reply.js';

// Charts take display numbers; every figure in the text beside them is the exact decimal string.
const num = (v: string) => Number(v);

const PERIOD_TITLE: Record<PnlPeriod, string> = {
  day: 'last 24 hours',
  week: 'last 7 days',
  month: 'last 30 days',
  all: 'all time',
};

export async function pnlReply(deps: ChatDeps, period: PnlPeriod): Promise<Reply> {
  const r = await deps.views.pnl(period, deps.nowMs());
  // Equity is measured by the risk monitor every few seconds; buckets it did not measure carry the last value.
  const known = r.points.find((p) => p.equity !== null)?.equity ?? null;
  let equity = known;
  const points = r.points.flatMap((p) => {
    equity = p.equity ?? equity;
    return equity === null
      ? []
      : [{ timeMs: p.timeMs, equity: num(equity), cumulativeProfit: num(p.cumulativeNet) }];
  });
  const lines = [
    `net ${r.net} = realized ${r.realized} − fees ${r.fees} over ${r.fills} fills`,
    ...r.grids.map(
      (g) =>
        `${g.id} ${g.symbol} (${g.status}): ${g.periodNet} in the period, ${g.totalNet} in all, unrealized ${g.unrealized ?? '–'}`,
    ),
  ];
  if (points.length === 0) lines.push('no equity measured yet: the chart comes with the first risk check');
  return {
    ...reply(`P/L, ${PERIOD_TITLE[period]}: ${r.net}`, lines),
    ...(points.length
      ? {
          image: {
            png: renderPnlChart({ title: `P/L, ${PERIOD_TITLE[period]}`, points, currency: 'USDT' }),
            name: `pnl-${period}.png`,
          },
        }
      : {}),
  };
}

export async function gridDetailReply(
  deps: ChatDeps,
  g: GridSummary,
  lines: readonly string[],
): Promise<Reply> {
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

export interface BacktestRequest {
  readonly symbol: string;
  readonly lower: string;
  readonly upper: string;
  readonly grids: number;
  readonly days: number;
}

/** Backtests are per 1,000 of quote: the chat asks for the range, not the money. */
const BACKTEST_INVESTMENT = '1000';

export async function backtestReply(deps: ChatDeps, req: BacktestRequest): Promise<Reply> {
  const instrument = deps.instrument(req.symbol);
  if (!instrument) return failure(`unknown symbol ${req.symbol}`, '/backtest BTCUSDT 90000 110000 20 7');
  const now = deps.nowMs();
  let candles: Awaited<ReturnType<typeof loadCandles>>;
  try {
    candles = await loadCandles(deps.ds, {
      symbol: req.symbol,
      interval: '1',
      fromMs: now - req.days * 86_400_000,
      toMs: now,
    });
  } catch (e) {
    if (e instanceof StoredCandlesError || e instanceof MoneyError) return failure(e.message);
    throw e;
  }
  const plan = planGrid(
    {
      lower: req.lower,
      upper: req.upper,
      grids: req.grids,
      mode: 'arithmetic',
      investment: BACKTEST_INVESTMENT,
      makerFee: DEFAULT_FEE,
      takerFee: DEFAULT_FEE,
      instrument,
    },
    candles.open[0]!,
  );
  if (!plan.ok) return failure(plan.error.message, '/backtest BTCUSDT 90000 110000 20 7');
  const { result: r, series } = runFastBacktest(plan.value, candles);
  const pct = (v: string) => new Dec(v).div(r.investment).times(100).toFixed(2);
  const png = renderEquityChart({
    title: `${req.symbol} backtest: ${req.grids} grids ${req.lower}–${req.upper}, ${req.days} days`,
    openTimeMs: series.openTimeMs,
    equity: series.equity,
    gridProfit: series.gridProfit,
  });
  return {
    ...reply(`Backtest ${req.symbol}, ${req.days} days: net ${r.netProfit} (${pct(r.netProfit)} %)`, [
      `${r.candles} one-minute candles, ${r.startPrice} → ${r.endPrice}, ${BACKTEST_INVESTMENT} invested`,
      `quantity per grid ${r.qtyPerGrid}; ${r.buys} buys, ${r.sells} sells`,
      `grid profit ${r.gridProfit} − fees ${r.fees} = net ${r.netProfit}`,
      `equity ${r.equity} (${pct(new Dec(r.equity).minus(r.investment).toFixed())} %), max drawdown ${r.maxDrawdownPct.toFixed(2)} %`,
      ...(r.stopped ? [`stopped: ${r.stopped.reason} at ${r.stopped.price}`] : []),
    ]),
    image: { png, name: `backtest-${req.symbol}.png` },
  };
}

/** Profit per grid since each began (realized less fees, and unrealized), for reports; null without grids. */
export async function profitPerGridImage(
  deps: Pick<ChatDeps, 'views' | 'nowMs'>,
): Promise<Reply['image'] | null> {
  const pnl = await deps.views.pnl('all', deps.nowMs());
  const grids = pnl.grids.filter((g) => g.status !== 'stopped' || g.periodFills > 0);
  if (grids.length === 0) return null;
  const day = new Date(deps.nowMs()).toISOString().slice(0, 10);
  const png = renderProfitPerGridChart({
    title: `Profit per grid (all time), ${day}`,
    grids: grids.map((g) => ({
      label: `${g.id} ${g.symbol}`,
      realized: num(g.totalNet),
      unrealized: num(g.unrealized ?? '0'),
    })),
    currency: 'USDT',
  });
  return { png, name: `profit-per-grid-${day}.png` };
}

/** The daily report: the day's P/L per grid, with profit per grid as a chart. */
export async function dailyReply(deps: ChatDeps, day: string): Promise<Reply> {
  const report = await buildDailyReport(deps.ds, day);
  const image = await profitPerGridImage(deps);
  return { ...reply(report.title, report.lines), ...(image ? { image } : {}) };
}
