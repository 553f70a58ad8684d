import type { DataSource } from 'typeorm';
import type { GridPeriod, ReportStore } from '../app/ports/reports.js';

export class PgReportStore implements ReportStore {
  constructor(private readonly ds: DataSource) {}

  async gridPeriods(day: string, days: number): Promise<GridPeriod[]> {
    const rows = (await this.ds.query(
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
    return rows.map((r) => ({
      id: r.id,
      symbol: r.symbol,
      status: r.status,
      totalRealized: r.total,
      totalFees: r.total_fees,
      periodRealized: r.day_pnl,
      periodFees: r.day_fees,
      fills: Number(r.fills),
    }));
  }

  async gridSymbols(): Promise<string[]> {
    const rows = (await this.ds.query(`SELECT DISTINCT symbol FROM grid ORDER BY symbol`)) as {
      symbol: string;
    }[];
    return rows.map((r) => r.symbol);
  }
}
