import type { DataSource } from 'typeorm';
import { apiKeyWarnings } from '../app/api-key-check.js';
import type { Notification } from '../app/ports.js';
import { Dec, decText } from '../engine/money.js';

/**
 * The realized P/L and fills per grid over `days` days ending with `day` (1: the daily report, 7: the weekly one), with
 * each grid's running total. Figures are exact sums of trades. The exchange API key's warnings (the latest check's, the
 * expiry counted to `now`) close it, so an unwise or expiring key is heard about every day, not only at start.
 */
export async function buildDailyReport(
  ds: DataSource,
  day: string,
  days = 1,
  now: Date = new Date(),
): Promise<Notification> {
  const rows = (await ds.query(
    `SELECT g.id, g.symbol, g.status, g.realized_pnl AS total, g.fees AS total_fees,
            COALESCE(SUM(t.realized_pnl), 0) AS day_pnl, COALESCE(SUM(t.fee_quote), 0) AS day_fees, count(t.id) AS fills
       FROM grid g LEFT JOIN trade t ON t.grid_id = g.id AND t.executed_at >= $1::date + 1 - $2::int AND t.executed_at < $1::date + 1
      GROUP BY g.id ORDER BY g.id`,
    [day, days],
  )) as {
    id: string;
    symbol: string;
    status: string;
    total: string;
    total_fees: string;
    day_pnl: string;
    day_fees: string;
    fills: string;
  }[];
  let dayNet = new Dec(0);
  const lines = rows.map((r) => {
    const net = new Dec(r.day_pnl).minus(r.day_fees);
    dayNet = dayNet.plus(net);
    return `${r.id} ${r.symbol} (${r.status}): ${r.fills} fills, ${days === 1 ? 'day' : `${days} days`} ${decText(r.day_pnl)} − fees ${decText(r.day_fees)} = ${decText(net)}; total realized ${decText(r.total)}`;
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
      ...(await apiKeyWarnings(ds, now)).map((w) => `warning: ${w}`),
    ],
  };
}
