import type { DataSource } from 'typeorm';
import {
  type CommitOutcome,
  GridNameTaken,
  type GridRecord,
  type GridStore,
  type LoadedGrid,
  type NewGrid,
  type TradeRecord,
} from '../app/ports/grids.js';
import type { Tx } from '../app/ports/tx.js';
import type { GridCommand } from '../engine/grid/events.js';
import type { GridState } from '../engine/grid/state.js';
import { gridFigures } from '../engine/grid/summary.js';
import { parseGridState, storedGridState } from './grid-state-schema.js';
import { LOCKS } from './locks.js';
import { isPgError, PG } from './pg-errors.js';
import { runner } from './transactions.js';

interface GridRow {
  id: string;
  name: string;
  symbol: string;
  status: GridRecord['status'];
  stop_reason: string | null;
  mode: GridRecord['mode'];
  lower: string;
  upper: string;
  grid_count: number;
  investment: string;
  stop_loss: string | null;
  take_profit: string | null;
  demo: boolean;
  base_qty: string;
  base_cost: string;
  quote_balance: string;
  realized_pnl: string;
  fees: string;
  open_orders: string;
  created_at: Date;
}

const SELECT_GRIDS = `
  SELECT g.id, g.name, g.symbol, g.status, g.stop_reason, g.mode, g.lower, g.upper, g.grid_count, g.investment,
         g.stop_loss, g.take_profit, g.demo, g.base_qty, g.base_cost, g.quote_balance, g.realized_pnl, g.fees,
         g.created_at,
         (SELECT count(*) FROM grid_order o WHERE o.grid_id = g.id AND o.status IN ('intent', 'placing', 'held', 'placed')
            AND NOT o.cancel_requested) AS open_orders
    FROM grid g`;

const toRecord = (r: GridRow): GridRecord => ({
  id: r.id,
  name: r.name,
  symbol: r.symbol,
  status: r.status,
  stopReason: r.stop_reason,
  mode: r.mode,
  lower: r.lower,
  upper: r.upper,
  grids: r.grid_count,
  investment: r.investment,
  stopLoss: r.stop_loss,
  takeProfit: r.take_profit,
  demo: r.demo,
  baseQty: r.base_qty,
  baseCost: r.base_cost,
  quoteBalance: r.quote_balance,
  realizedPnl: r.realized_pnl,
  fees: r.fees,
  openOrders: Number(r.open_orders),
  createdAt: new Date(r.created_at),
});

/** The grids: their rows, their engine states (parsed and versioned: grid-state-schema.ts) and the step commit. */
export class PgGridStore implements GridStore {
  constructor(private readonly ds: DataSource) {}

  /** A grid's engine state and version, and whether a given execution is already recorded: one round trip. */
  async load(gridId: string, execId: string | null): Promise<LoadedGrid | null> {
    const rows = (await this.ds.query(
      `SELECT id, symbol, state, version, EXISTS (SELECT 1 FROM trade WHERE exec_id = $2) AS "executionRecorded"
         FROM grid WHERE id = $1`,
      [gridId, execId],
    )) as (Omit<LoadedGrid, 'state'> & { state: unknown })[];
    const row = rows[0];
    return row ? { ...row, state: parseGridState(row.id, row.state) } : null;
  }

  /**
   * Writes the outcome of one engine step as a single statement, so it is all or nothing without an explicit
   * transaction: the new state (only if the version is still the one the step started from), the fill, and the orders
   * the step wants (written already claimed, 'placing', by this process, which sends them right after; if it dies
   * first, the reconciler finds them still 'placing', asks the exchange, and sends what never arrived). Every part
   * hangs off the state update, so a stale version writes nothing; a fill already recorded fails on trade.exec_id.
   * The state is written in the current schema version, which upgrades a state loaded from an older one.
   */
  async commitStep(
    grid: LoadedGrid,
    state: GridState,
    commands: readonly GridCommand[],
    trade: TradeRecord | null,
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
      const [row] = (await this.ds.query(
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
          storedGridState(state),
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
      if (isPgError(e, PG.uniqueViolation, 'trade_exec_id_key')) return 'duplicate-fill';
      throw e;
    }
  }

  async list(): Promise<GridRecord[]> {
    const rows = (await this.ds.query(`${SELECT_GRIDS} ORDER BY g.created_at, g.id`)) as GridRow[];
    return rows.map(toRecord);
  }

  async matching(ref: string): Promise<GridRecord[]> {
    const rows = (await this.ds.query(
      `${SELECT_GRIDS} WHERE g.id = $1 OR g.name = $1 OR (g.symbol = upper($1) AND g.status <> 'stopped')
       ORDER BY (g.id = $1) DESC, (g.name = $1) DESC`,
      [ref],
    )) as GridRow[];
    return rows.map(toRecord);
  }

  async nextId(): Promise<string> {
    const [{ id }] = (await this.ds.query(`SELECT 'g' || nextval('grid_number_seq') AS id`)) as [
      { id: string },
    ];
    return id;
  }

  async lockCreation(tx: Tx): Promise<void> {
    await runner(this.ds, tx).query(`SELECT pg_advisory_xact_lock($1)`, [LOCKS.gridCaps]);
  }

  async activeInvestments(except: string | null, tx?: Tx): Promise<{ symbol: string; investment: string }[]> {
    return (await runner(this.ds, tx).query(
      `SELECT symbol, investment FROM grid WHERE status <> 'stopped' AND ($1::text IS NULL OR id <> $1)`,
      [except],
    )) as { symbol: string; investment: string }[];
  }

  async insert(g: NewGrid, tx?: Tx): Promise<void> {
    try {
      await this.insertRow(g, tx);
    } catch (e) {
      // The id comes from a sequence: a unique violation here is the name.
      if (isPgError(e, PG.uniqueViolation)) throw new GridNameTaken(g.name);
      throw e;
    }
  }

  private async insertRow(g: NewGrid, tx?: Tx): Promise<void> {
    await runner(this.ds, tx).query(
      `INSERT INTO grid (id, name, symbol, lower, upper, grid_count, mode, investment, stop_loss, take_profit,
         maker_fee, taker_fee, status, demo, source, state, quote_balance)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'created', $13, $14, $15, $8)`,
      [
        g.id,
        g.name,
        g.symbol,
        g.lower,
        g.upper,
        g.grids,
        g.mode,
        g.investment,
        g.stopLoss,
        g.takeProfit,
        g.makerFee,
        g.takerFee,
        g.demo,
        g.source,
        storedGridState(g.state),
      ],
    );
  }

  async count(): Promise<number> {
    const [{ count }] = (await this.ds.query(`SELECT count(*)::int AS count FROM grid`)) as [
      { count: number },
    ];
    return count;
  }

  async qtyStep(gridId: string): Promise<string | null> {
    const [row] = (await this.ds.query(`SELECT state #>> '{plan,qtyStep}' AS step FROM grid WHERE id = $1`, [
      gridId,
    ])) as { step: string | null }[];
    return row?.step ?? null;
  }

  async priceTriggers(symbol: string, price: string): Promise<{ triggered: string[]; held: boolean }> {
    // Whether the symbol has held orders rides along (a partial index of held orders alone): no round trip more per
    // price, and the held ones are read only when there are some.
    // Beside the stops: a grid waiting for its trigger price (or paused before it) hears every price on the other side
    // of the trigger from the last price it heard, or at it (the engine's test for reaching it reads only those sides,
    // so a price on the same side would change nothing it decides); a trailing grid hears every price at or above the
    // line where its next shift is due. Prices in the state are in price units (1e-8).
    const [found] = (await this.ds.query(
      `SELECT ARRAY(SELECT id FROM grid WHERE symbol = $1 AND status IN ('waiting', 'running', 'paused')
          AND ((stop_loss IS NOT NULL AND $2::numeric <= stop_loss) OR (take_profit IS NOT NULL AND $2::numeric >= take_profit)
            OR ((status = 'waiting' OR (status = 'paused' AND json_array_length(state->'cells') = 0))
                AND state->'plan'->>'trigger' IS NOT NULL
                AND sign($2::numeric * 100000000 - (state->'plan'->>'trigger')::numeric)
                    IS DISTINCT FROM sign((state->>'lastPrice')::numeric - (state->'plan'->>'trigger')::numeric))
            OR (status = 'running' AND state->'trail'->>'ended' = 'false'
                AND $2::numeric * 100000000 >= (state->'trail'->>'next')::numeric))
          ORDER BY id) AS triggered,
         EXISTS (SELECT 1 FROM grid_order WHERE symbol = $1 AND status = 'held') AS held`,
      [symbol, price],
    )) as { triggered: string[]; held: boolean }[];
    return { triggered: found?.triggered ?? [], held: found?.held ?? false };
  }
}
