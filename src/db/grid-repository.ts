import type { DataSource } from 'typeorm';
import type { GridCommand } from '../engine/grid/events.js';
import type { GridState } from '../engine/grid/state.js';
import { gridFigures } from '../engine/grid/summary.js';

export interface LoadedGrid {
  readonly id: string;
  readonly symbol: string;
  readonly state: GridState;
  readonly version: number;
  /** The execution of the event being applied is already a trade (a redelivered fill). */
  readonly executionRecorded: boolean;
}

/** A grid's engine state and version, and whether a given execution is already recorded: one round trip. */
export async function loadGrid(
  ds: DataSource,
  gridId: string,
  execId: string | null,
): Promise<LoadedGrid | null> {
  const rows = (await ds.query(
    `SELECT id, symbol, state, version, EXISTS (SELECT 1 FROM trade WHERE exec_id = $2) AS "executionRecorded"
       FROM grid WHERE id = $1`,
    [gridId, execId],
  )) as LoadedGrid[];
  return rows[0] ?? null;
}

export interface TradeRow {
  readonly execId: string;
  readonly clientOrderId: string;
  /**
   * The exchange's id of the order, as the execution reported it; when it did not, the order's own record supplies
   * it (null if that never learned it either).
   */
  readonly exchangeOrderId: string | null;
  readonly side: 'buy' | 'sell';
  readonly purpose: string;
  readonly price: string;
  readonly quantity: string;
  readonly fee: string;
  readonly feeCurrency: string;
  /** The fee valued in quote, as the ledger counts it (net P/L = realized − feeQuote). */
  readonly feeQuote: string;
  readonly realizedPnl: string;
  readonly executedAt: Date;
  /** The fill completed its order. */
  readonly orderDone: boolean;
}

export type CommitOutcome = 'committed' | 'stale' | 'duplicate-fill';

/**
 * Writes the outcome of one engine step as a single statement, so it is all or nothing without an explicit
 * transaction: the new state (only if the version is still the one the step started from), the fill, and the orders
 * the step wants (written already claimed, 'placing', by this process, which sends them right after; if it dies
 * first, the reconciler finds them still 'placing', asks the exchange, and sends what never arrived). Every part
 * hangs off the state update, so a stale version writes nothing; a fill already recorded fails on trade.exec_id.
 */
export async function commitStep(
  ds: DataSource,
  grid: LoadedGrid,
  state: GridState,
  commands: readonly GridCommand[],
  trade: TradeRow | null,
): Promise<CommitOutcome> {
  const f = gridFigures(state);
  const places = commands.flatMap((c) =>
    c.kind === 'place'
      ? [
          {
            id: c.clientOrderId,
            cell: c.cell,
            side: c.side,
            type: c.type,
            purpose: c.purpose,
            price: c.priceText,
            quantity: c.qtyText,
          },
        ]
      : [],
  );
  const cancels = commands.flatMap((c) => (c.kind === 'cancel' ? [c.clientOrderId] : []));
  try {
    const [row] = (await ds.query(
      `WITH g AS (
         UPDATE grid SET state = $3, version = version + 1, status = $4, stop_reason = $5, base_qty = $6,
                base_cost = $7, quote_balance = $8, realized_pnl = $9, fees = $10, updated_at = now()
          WHERE id = $1 AND version = $2
          RETURNING id, symbol),
       t AS (
         INSERT INTO trade (exec_id, grid_id, client_order_id, exchange_order_id, symbol, side, purpose, price,
                            quantity, fee, fee_currency, fee_quote, realized_pnl, executed_at)
         SELECT x.exec_id, g.id, x.client_order_id,
                COALESCE(x.exchange_order_id,
                         (SELECT o.exchange_order_id FROM grid_order o WHERE o.client_order_id = x.client_order_id)),
                g.symbol, x.side, x.purpose, x.price, x.quantity, x.fee, x.fee_currency, x.fee_quote,
                x.realized_pnl, x.executed_at
           FROM g, jsonb_to_record($11::jsonb) AS x(exec_id text, client_order_id text, exchange_order_id text,
                side text, purpose text, price numeric, quantity numeric, fee numeric, fee_currency text,
                fee_quote numeric, realized_pnl numeric, executed_at timestamptz)
          WHERE $11::jsonb IS NOT NULL
          RETURNING 1),
       filled AS (
         UPDATE grid_order o SET status = 'filled', updated_at = now() FROM g
          WHERE o.client_order_id = $12 RETURNING 1),
       placed AS (
         INSERT INTO grid_order (client_order_id, grid_id, symbol, cell, side, type, purpose, price, quantity, status)
         SELECT o.id, g.id, g.symbol, o.cell, o.side, o.type, o.purpose, o.price::numeric, o.quantity::numeric,
                'placing'
           FROM g, jsonb_to_recordset($13::jsonb)
                AS o(id text, cell int, side text, type text, purpose text, price text, quantity text)
         ON CONFLICT (client_order_id) DO NOTHING
         RETURNING 1),
       cancelled AS (
         UPDATE grid_order o SET cancel_requested = true, updated_at = now() FROM g
          WHERE o.client_order_id = ANY($14) RETURNING 1)
       SELECT (SELECT count(*) FROM g)::int AS written, (SELECT count(*) FROM t)::int AS trades,
              (SELECT count(*) FROM filled)::int AS filled, (SELECT count(*) FROM placed)::int AS placed,
              (SELECT count(*) FROM cancelled)::int AS cancelled`,
      [
        grid.id,
        grid.version,
        JSON.stringify(state),
        state.status,
        state.stopReason,
        f.baseQty,
        f.baseCost,
        f.quoteBalance,
        f.realizedPnl,
        f.fees,
        trade
          ? JSON.stringify({
              exec_id: trade.execId,
              client_order_id: trade.clientOrderId,
              exchange_order_id: trade.exchangeOrderId,
              side: trade.side,
              purpose: trade.purpose,
              price: trade.price,
              quantity: trade.quantity,
              fee: trade.fee,
              fee_currency: trade.feeCurrency,
              fee_quote: trade.feeQuote,
              realized_pnl: trade.realizedPnl,
              executed_at: trade.executedAt.toISOString(),
            })
          : null,
        trade?.orderDone ? trade.clientOrderId : null,
        JSON.stringify(places),
        cancels,
      ],
    )) as { written: number }[];
    return row!.written === 1 ? 'committed' : 'stale';
  } catch (e) {
    const error = e as {
      driverError?: { code?: string; constraint?: string };
      code?: string;
      constraint?: string;
    };
    const code = error.driverError?.code ?? error.code;
    const constraint = error.driverError?.constraint ?? error.constraint;
    if (code === '23505' && constraint === 'trade_exec_id_key') return 'duplicate-fill';
    throw e;
  }
}

/**
 * The symbol's position is the sum of its grids. Unrealized P/L is marked at the latest price the app has seen (the
 * last 1-minute close), or at the given price when it has seen none.
 */
export async function refreshPosition(ds: DataSource, symbol: string, fallbackPrice: string): Promise<void> {
  await ds.query(
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
