import { Dec, decText } from '../engine/money.js';
import { type AlertView, recentAlerts } from './alerts.js';
import { apiKeyWarnings } from './api-key-check.js';
import type { AlertStore } from './ports/alerts.js';
import type { ApiKeyChecks } from './ports/api-key.js';
import type { Notification } from './ports/core.js';
import type { ReportStore } from './ports/reports.js';
import type { PnlPeriod, PnlReport } from './views.js';

/*
 * What every surface reports, read once: the daily and weekly report, P/L over a period with the figures its charts
 * draw, profit per grid, and the latest alerts. Chat, REST, the CLI and the report jobs call these; they only render.
 * Chart data are display numbers; every figure said in text stays an exact decimal string.
 */

export const PNL_PERIOD_NAMES: Readonly<Record<PnlPeriod, string>> = {
  day: 'last 24 hours',
  week: 'last 7 days',
  month: 'last 30 days',
  all: 'all time',
};

export interface PnlChartPoint {
  readonly timeMs: number;
  readonly equity: number;
  readonly cumulativeProfit: number;
}

export interface ProfitPerGridChart {
  /** The UTC day drawn (YYYY-MM-DD). */
  readonly day: string;
  readonly grids: readonly {
    readonly label: string;
    readonly realized: number;
    readonly unrealized: number;
  }[];
}

/**
 * Where the P/L chart starts: equity is measured by the risk monitor every few seconds, and a bucket it did not
 * measure shows the last value before it; the buckets before the first measurement either show that first value
 * (the chat's chart spans the whole period) or are left out (the API's starts at the first measurement).
 */
export type LeadingBuckets = 'first-measured' | 'skip';

/** The points of a P/L chart: equity and cumulative net profit per bucket. Empty before any equity was measured. */
export function pnlChartPoints(report: PnlReport, leading: LeadingBuckets): PnlChartPoint[] {
  let equity =
    leading === 'first-measured' ? (report.points.find((p) => p.equity !== null)?.equity ?? null) : null;
  const points: PnlChartPoint[] = [];
  for (const p of report.points) {
    equity = p.equity ?? equity;
    if (equity === null) continue;
    points.push({ timeMs: p.timeMs, equity: Number(equity), cumulativeProfit: Number(p.cumulativeNet) });
  }
  return points;
}

export interface ReportDeps {
  readonly store: ReportStore;
  /** The exchange API key's latest check, whose warnings close each report (none when no key was checked). */
  readonly keyChecks: ApiKeyChecks;
}

/**
 * The realized P/L and fills per grid over `days` days ending with `day` (1: the daily report, 7: the weekly one), with
 * each grid's running total. Figures are exact sums of trades. The exchange API key's warnings (the latest check's, the
 * expiry counted to `now`) close it, so an unwise or expiring key is heard about every day, not only at start.
 */
export async function periodReport(
  deps: ReportDeps,
  day: string,
  days = 1,
  now: Date = new Date(),
): Promise<Notification> {
  const rows = await deps.store.gridPeriods(day, days);
  let dayNet = new Dec(0);
  const lines = rows.map((r) => {
    const net = new Dec(r.periodRealized).minus(r.periodFees);
    dayNet = dayNet.plus(net);
    return `${r.id} ${r.symbol} (${r.status}): ${r.fills} fills, ${days === 1 ? 'day' : `${days} days`} ${decText(r.periodRealized)} − fees ${decText(r.periodFees)} = ${decText(net)}; total realized ${decText(r.totalRealized)}`;
  });
  return {
    category: 'report',
    severity: 'info',
    key: days === 1 ? `daily-${day}` : `weekly-${day}`,
    chart: 'profit-per-grid',
    title:
      days === 1
        ? `Daily report ${day} (UTC): net ${decText(dayNet)}`
        : `Weekly report to ${day} (UTC, ${days} days): net ${decText(dayNet)}`,
    lines: [
      ...(lines.length ? lines : ['no grids']),
      ...(await apiKeyWarnings(deps.keyChecks, now)).map((w) => `warning: ${w}`),
    ],
  };
}

export interface ReportsDeps extends ReportDeps {
  /** P/L over a period, per bucket and per grid (Views). */
  readonly pnl: { pnl(period: PnlPeriod, nowMs: number): Promise<PnlReport> };
  readonly alerts: Pick<AlertStore, 'recent'>;
  readonly nowMs?: () => number;
}

export class Reports {
  private readonly nowMs: () => number;

  constructor(private readonly deps: ReportsDeps) {
    this.nowMs = deps.nowMs ?? Date.now;
  }

  /** The daily report of `day` (UTC), or the weekly one with `days` 7. */
  periodReport(day: string, days = 1, now: Date = new Date(this.nowMs())): Promise<Notification> {
    return periodReport(this.deps, day, days, now);
  }

  /** P/L over a period ending at `nowMs` (now by default). */
  pnl(period: PnlPeriod, nowMs: number = this.nowMs()): Promise<PnlReport> {
    return this.deps.pnl.pnl(period, nowMs);
  }

  /** Profit per grid since each began (realized less fees, and unrealized), for reports; null without grids. */
  async profitPerGrid(nowMs: number = this.nowMs()): Promise<ProfitPerGridChart | null> {
    const pnl = await this.deps.pnl.pnl('all', nowMs);
    const grids = pnl.grids.filter((g) => g.status !== 'stopped' || g.periodFills > 0);
    if (grids.length === 0) return null;
    return {
      day: new Date(nowMs).toISOString().slice(0, 10),
      grids: grids.map((g) => ({
        label: `${g.id} ${g.symbol}`,
        realized: Number(g.totalNet),
        unrealized: Number(g.unrealized ?? '0'),
      })),
    };
  }

  /** The latest webhook alerts and what they did, newest first. */
  recentAlerts(limit: number): Promise<AlertView[]> {
    return recentAlerts(this.deps.alerts, limit);
  }
}
