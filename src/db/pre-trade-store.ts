import type { DataSource } from 'typeorm';
import type { PreTradeBook, PreTradeReads } from '../app/ports/risk.js';
import { BTC_SYMBOL } from '../market/feed.js';

/** What the pre-trade rules read from Postgres: the grids, open orders and positions, and BTC's candles. */
export class PgPreTradeReads implements PreTradeReads {
  constructor(private readonly ds: DataSource) {}

  async book(
    gridIds: readonly string[],
    want: { counts: boolean; positions: boolean },
  ): Promise<PreTradeBook> {
    const [row] = (await this.ds.query(
      `SELECT
         (SELECT json_agg(json_build_object('id', id, 'status', status, 'stop_loss', stop_loss::text))
            FROM grid WHERE id = ANY($1)) AS grids,
         CASE WHEN $2 THEN (SELECT json_agg(json_build_object('symbol', symbol, 'n', n)) FROM (
           SELECT symbol, count(*)::int AS n FROM grid_order WHERE status = 'placed' AND NOT cancel_requested
            GROUP BY symbol) c) END AS counts,
         CASE WHEN $3 THEN (SELECT json_agg(json_build_object('symbol', symbol, 'qty', qty)) FROM (
           SELECT symbol, SUM(base_qty)::text AS qty FROM grid GROUP BY symbol) p) END AS positions`,
      [[...gridIds], want.counts, want.positions],
    )) as {
      grids: { id: string; status: string; stop_loss: string | null }[] | null;
      counts: { symbol: string; n: number }[] | null;
      positions: { symbol: string; qty: string }[] | null;
    }[];
    return {
      grids: new Map((row?.grids ?? []).map((g) => [g.id, g])),
      openBySymbol: new Map((row?.counts ?? []).map((c) => [c.symbol, c.n])),
      positions: new Map((row?.positions ?? []).map((p) => [p.symbol, p.qty])),
    };
  }

  async btcCloses(lookbackMs: number): Promise<readonly [string, string] | null> {
    const rows = (await this.ds.query(
      `(SELECT close FROM ohlcv WHERE symbol = $2 AND interval = '1'
          AND open_time <= now() - ($1 || ' milliseconds')::interval ORDER BY open_time DESC LIMIT 1)
       UNION ALL
       (SELECT close FROM ohlcv WHERE symbol = $2 AND interval = '1' ORDER BY open_time DESC LIMIT 1)`,
      [lookbackMs, BTC_SYMBOL],
    )) as { close: string }[];
    return rows.length === 2 ? [rows[0]!.close, rows[1]!.close] : null;
  }
}
