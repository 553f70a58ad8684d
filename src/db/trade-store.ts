import type { DataSource } from 'typeorm';
import type { TradeStore } from '../app/ports/trades.js';

export class PgTradeStore implements TradeStore {
  constructor(private readonly ds: DataSource) {}

  async executionCursor(name: string): Promise<string | null> {
    const [row] = (await this.ds.query(`SELECT value FROM sync_cursor WHERE name = $1`, [name])) as {
      value: string;
    }[];
    return row?.value ?? null;
  }

  async advanceExecutionCursor(name: string, value: string): Promise<void> {
    await this.ds.query(
      `INSERT INTO sync_cursor (name, value) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [name, value],
    );
  }

  async recordedExecIds(execIds: readonly string[]): Promise<Set<string>> {
    const rows = (await this.ds.query(`SELECT exec_id FROM trade WHERE exec_id = ANY($1)`, [execIds])) as {
      exec_id: string;
    }[];
    return new Set(rows.map((r) => r.exec_id));
  }

  /**
   * The symbol's position is the sum of its grids. Unrealized P/L is marked at the latest price the app has seen (the
   * last 1-minute close), or at the given price when it has seen none.
   */
  async refreshPosition(symbol: string, fallbackPrice: string): Promise<void> {
    await this.ds.query(
      `WITH mark AS (
         SELECT COALESCE((SELECT close FROM ohlcv WHERE symbol = $1 AND interval = '1' ORDER BY open_time DESC LIMIT 1),
                         $2::numeric) AS price)
       INSERT INTO position (symbol, quantity, cost_basis, avg_entry, realized_pnl, unrealized_pnl, updated_at)
       SELECT $1, COALESCE(SUM(base_qty), 0), COALESCE(SUM(base_cost), 0),
              CASE WHEN SUM(base_qty) > 0 THEN SUM(base_cost) / SUM(base_qty) END,
              COALESCE(SUM(realized_pnl), 0), COALESCE(SUM(base_qty) * (SELECT price FROM mark) - SUM(base_cost), 0), now()
         FROM grid WHERE symbol = $1
       ON CONFLICT (symbol) DO UPDATE SET quantity = EXCLUDED.quantity, cost_basis = EXCLUDED.cost_basis,
         avg_entry = EXCLUDED.avg_entry, realized_pnl = EXCLUDED.realized_pnl,
         unrealized_pnl = EXCLUDED.unrealized_pnl, updated_at = now()`,
      [symbol, fallbackPrice],
    );
  }

  async recordPrice(symbol: string, minute: Date, price: string): Promise<void> {
    await this.ds.query(
      `INSERT INTO ohlcv (symbol, interval, open_time, open, high, low, close, volume) VALUES ($1, '1', $2, $3, $3, $3, $3, 0)
       ON CONFLICT (symbol, interval, open_time) DO UPDATE SET high = GREATEST(ohlcv.high, EXCLUDED.high),
         low = LEAST(ohlcv.low, EXCLUDED.low), close = EXCLUDED.close`,
      [symbol, minute, price],
    );
  }
}
