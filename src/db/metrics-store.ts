import type { DataSource } from 'typeorm';
import type { MetricsStore } from '../app/ports/metrics.js';

const MONEY = { net: 'realized_pnl - fees', fees: 'fees' } as const;

export class PgMetricsStore implements MetricsStore {
  constructor(private readonly ds: DataSource) {}

  fillsBySide(): Promise<{ symbol: string; side: string; n: number }[]> {
    return this.ds.query(`SELECT symbol, side, count(*)::int AS n FROM trade GROUP BY symbol, side`);
  }

  async alertsByState(): Promise<{ processed: number; pending: number }> {
    const [row] = (await this.ds.query(
      `SELECT count(*) FILTER (WHERE processed)::int AS processed,
                  count(*) FILTER (WHERE NOT processed)::int AS pending FROM alert`,
    )) as { processed: number; pending: number }[];
    return { processed: row?.processed ?? 0, pending: row?.pending ?? 0 };
  }

  gridsByStatus(): Promise<{ status: string; n: number }[]> {
    return this.ds.query(`SELECT status, count(*)::int AS n FROM grid GROUP BY status`);
  }

  gridMoney(figure: 'net' | 'fees'): Promise<{ id: string; symbol: string; v: string }[]> {
    const column = MONEY[figure];
    return this.ds.query(
      `SELECT id, symbol, (${column})::text AS v FROM grid WHERE status <> 'stopped' OR ${column} <> 0`,
    );
  }
}
