import type { DataSource } from 'typeorm';
import type {
  GridPeriodRecord,
  LadderGridRecord,
  OpenOrderRecord,
  PnlBucket,
  TradeCursor,
  TradePageFilter,
  TradeRecord,
  ViewStore,
} from '../app/ports/views.js';
import { parseGridState } from './grid-state-schema.js';

interface TradeRow {
  id: string;
  executed_at: Date;
  grid_id: string;
  symbol: string;
  side: 'buy' | 'sell';
  price: string;
  quantity: string;
  fee: string;
  fee_currency: string;
  net: string;
  exec_id: string;
  exchange_order_id: string | null;
  client_order_id: string;
}

// `id` leaves as text: an ORDER BY over these names the table's columns (trade.id), or it would sort the text.
const TRADE_COLUMNS = `id::text, executed_at, grid_id, symbol, side, price::text, quantity::text, fee::text, fee_currency,
  (realized_pnl - fee_quote)::text AS net, exec_id, exchange_order_id, client_order_id`;

function tradeRecord(r: TradeRow): TradeRecord {
  return {
    id: r.id,
    executedAt: r.executed_at,
    gridId: r.grid_id,
    symbol: r.symbol,
    side: r.side,
    price: r.price,
    quantity: r.quantity,
    fee: r.fee,
    feeCurrency: r.fee_currency,
    net: r.net,
    execId: r.exec_id,
    exchangeOrderId: r.exchange_order_id,
    clientOrderId: r.client_order_id,
  };
}

export class PgViewStore implements ViewStore {
  constructor(private readonly ds: DataSource) {}

  async firstTradeAt(): Promise<Date | null> {
    const [first] = (await this.ds.query(`SELECT min(executed_at) AS first FROM trade`)) as {
      first: Date | null;
    }[];
    return first?.first ?? null;
  }

  async pnlBuckets(from: Date, to: Date, stepMs: number): Promise<PnlBucket[]> {
    const rows = (await this.ds.query(
      `WITH buckets AS (
         SELECT generate_series(to_timestamp(floor(extract(epoch FROM $1::timestamptz) * 1000 / $3) * $3 / 1000),
                                $2::timestamptz, make_interval(secs => $3 / 1000.0)) AS t)
       SELECT (extract(epoch FROM b.t) * 1000)::bigint AS t_ms,
              (SELECT COALESCE(SUM(realized_pnl - fee_quote), 0)::text FROM trade
                WHERE executed_at < b.t + make_interval(secs => $3 / 1000.0)) AS cumulative,
              (SELECT figures->>'equity' FROM risk_metric WHERE kind = 'snapshot' AND at >= b.t
                  AND at < b.t + make_interval(secs => $3 / 1000.0)
                  -- A check before any grid existed measured nothing: not a fall of equity to zero.
                  AND (figures->>'equity')::numeric > 0
                ORDER BY at DESC LIMIT 1) AS equity
         FROM buckets b ORDER BY b.t`,
      [from, to, stepMs],
    )) as { t_ms: string; cumulative: string; equity: string | null }[];
    return rows.map((r) => ({ timeMs: Number(r.t_ms), cumulative: r.cumulative, equity: r.equity }));
  }

  async gridPeriods(from: Date, to: Date): Promise<GridPeriodRecord[]> {
    const rows = (await this.ds.query(
      `SELECT g.id, g.name, g.symbol, g.status, g.base_qty::text, g.base_cost::text,
              (g.realized_pnl - g.fees)::text AS total_net,
              COALESCE(SUM(t.realized_pnl - t.fee_quote), 0)::text AS period_net,
              COALESCE(SUM(t.realized_pnl), 0)::text AS period_realized,
              COALESCE(SUM(t.fee_quote), 0)::text AS period_fees, count(t.id)::int AS fills
         FROM grid g LEFT JOIN trade t ON t.grid_id = g.id AND t.executed_at >= $1 AND t.executed_at <= $2
        GROUP BY g.id ORDER BY g.created_at, g.id`,
      [from, to],
    )) as {
      id: string;
      name: string;
      symbol: string;
      status: string;
      base_qty: string;
      base_cost: string;
      total_net: string;
      period_net: string;
      period_realized: string;
      period_fees: string;
      fills: number;
    }[];
    return rows.map((g) => ({
      id: g.id,
      name: g.name,
      symbol: g.symbol,
      status: g.status,
      baseQty: g.base_qty,
      baseCost: g.base_cost,
      totalNet: g.total_net,
      periodNet: g.period_net,
      periodRealized: g.period_realized,
      periodFees: g.period_fees,
      fills: g.fills,
    }));
  }

  async recentTrades(limit: number, symbol: string | null): Promise<TradeRecord[]> {
    const rows = (await this.ds.query(
      `SELECT ${TRADE_COLUMNS}
         FROM trade WHERE ($2::text IS NULL OR symbol = $2) ORDER BY trade.executed_at DESC, trade.id DESC LIMIT $1`,
      [limit, symbol],
    )) as TradeRow[];
    return rows.map(tradeRecord);
  }

  async tradePage(
    filter: TradePageFilter,
    after: TradeCursor | null,
    limit: number,
  ): Promise<(TradeRecord & { cursorAt: string })[]> {
    // The cursor's time as text to the microsecond: a JS Date keeps milliseconds, and a row stored with more
    // would compare after its own truncation and come again on the next page.
    const rows = (await this.ds.query(
      `SELECT ${TRADE_COLUMNS},
                to_char(executed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
           FROM trade
          WHERE ($1::text IS NULL OR symbol = $1) AND ($2::timestamptz IS NULL OR executed_at >= $2)
            AND ($3::timestamptz IS NULL OR executed_at < $3)
            AND ($4::timestamptz IS NULL OR (executed_at, id) > ($4, $5::bigint))
          ORDER BY trade.executed_at, trade.id LIMIT $6`,
      [filter.symbol, filter.from, filter.to, after?.at ?? null, after?.id ?? null, limit],
    )) as (TradeRow & { cursor_at: string })[];
    return rows.map((r) => ({ ...tradeRecord(r), cursorAt: r.cursor_at }));
  }

  async openOrders(symbol: string | null): Promise<OpenOrderRecord[]> {
    const rows = (await this.ds.query(
      `SELECT grid_id, symbol, side, price::text, quantity::text, client_order_id,
              CASE WHEN status = 'held' THEN substring(reason FROM '^pre-trade ([a-z-]+):') END AS held
         FROM grid_order
        WHERE status IN ('placed', 'held') AND NOT cancel_requested AND ($1::text IS NULL OR symbol = $1)
        ORDER BY symbol, price DESC NULLS LAST`,
      [symbol],
    )) as {
      grid_id: string;
      symbol: string;
      side: 'buy' | 'sell';
      price: string | null;
      quantity: string;
      client_order_id: string;
      held: string | null;
    }[];
    return rows.map((r) => ({
      gridId: r.grid_id,
      symbol: r.symbol,
      side: r.side,
      price: r.price,
      quantity: r.quantity,
      clientOrderId: r.client_order_id,
      held: r.held,
    }));
  }

  async ladderGrid(gridId: string): Promise<LadderGridRecord | null> {
    const [grid] = (await this.ds.query(
      `SELECT id, symbol, state, stop_loss::text, take_profit::text FROM grid WHERE id = $1`,
      [gridId],
    )) as {
      id: string;
      symbol: string;
      state: unknown;
      stop_loss: string | null;
      take_profit: string | null;
    }[];
    if (!grid) return null;
    return {
      id: grid.id,
      symbol: grid.symbol,
      // Parsed like every load of engine state (an old version upgraded, a corrupt one refused with the grid named).
      state: parseGridState(grid.id, grid.state),
      stopLoss: grid.stop_loss,
      takeProfit: grid.take_profit,
    };
  }
}
