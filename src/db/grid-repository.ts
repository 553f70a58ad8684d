import type { EntityManager } from 'typeorm';
import type { GridCommand } from '../engine/grid/events.js';
import type { GridState } from '../engine/grid/state.js';
import { gridFigures } from '../engine/grid/summary.js';

export interface LockedGrid {
  readonly id: string;
  readonly symbol: string;
  readonly state: GridState;
  readonly version: number;
}

/** Loads a grid's engine state and holds its row lock until the transaction ends: one event at a time per grid. */
export async function lockGrid(m: EntityManager, gridId: string): Promise<LockedGrid | null> {
  const rows = (await m.query(`SELECT id, symbol, state, version FROM grid WHERE id = $1 FOR UPDATE`, [
    gridId,
  ])) as {
    id: string;
    symbol: string;
    state: GridState;
    version: number;
  }[];
  return rows[0] ?? null;
}

export async function hasTrade(m: EntityManager, execId: string): Promise<boolean> {
  const rows = await m.query(`SELECT 1 FROM trade WHERE exec_id = $1`, [execId]);
  return rows.length > 0;
}

export async function saveGridState(m: EntityManager, grid: LockedGrid, state: GridState): Promise<void> {
  const f = gridFigures(state);
  const [, count] = (await m.query(
    `UPDATE grid SET state = $3, version = version + 1, status = $4, stop_reason = $5, base_qty = $6, base_cost = $7,
       quote_balance = $8, realized_pnl = $9, fees = $10, updated_at = now()
     WHERE id = $1 AND version = $2`,
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
    ],
  )) as [unknown, number];
  // The row lock makes this impossible; the version check is the second line of defence.
  if (count !== 1) throw new Error(`grid ${grid.id} changed under its lock (version ${grid.version})`);
}

export interface TradeRow {
  readonly execId: string;
  readonly gridId: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly purpose: string;
  readonly price: string;
  readonly quantity: string;
  readonly fee: string;
  readonly feeCurrency: string;
  readonly realizedPnl: string;
  readonly executedAt: Date;
}

export async function insertTrade(m: EntityManager, t: TradeRow): Promise<void> {
  await m.query(
    `INSERT INTO trade (exec_id, grid_id, client_order_id, symbol, side, purpose, price, quantity, fee, fee_currency,
       realized_pnl, executed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      t.execId,
      t.gridId,
      t.clientOrderId,
      t.symbol,
      t.side,
      t.purpose,
      t.price,
      t.quantity,
      t.fee,
      t.feeCurrency,
      t.realizedPnl,
      t.executedAt,
    ],
  );
}

/** Order intents are written in the same transaction as the state that wants them: none is lost, none doubled. */
export async function recordCommands(
  m: EntityManager,
  gridId: string,
  symbol: string,
  commands: readonly GridCommand[],
): Promise<void> {
  for (const c of commands) {
    if (c.kind === 'place') {
      await m.query(
        `INSERT INTO grid_order (client_order_id, grid_id, symbol, cell, side, type, purpose, price, quantity, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'intent') ON CONFLICT (client_order_id) DO NOTHING`,
        [c.clientOrderId, gridId, symbol, c.cell, c.side, c.type, c.purpose, c.priceText, c.qtyText],
      );
    } else {
      await m.query(
        `UPDATE grid_order SET cancel_requested = true, updated_at = now() WHERE client_order_id = $1`,
        [c.clientOrderId],
      );
    }
  }
}

export async function markOrderFilled(m: EntityManager, clientOrderId: string): Promise<void> {
  await m.query(`UPDATE grid_order SET status = 'filled', updated_at = now() WHERE client_order_id = $1`, [
    clientOrderId,
  ]);
}

/** The symbol's position is the sum of its grids; unrealized P/L is marked at the given price. */
export async function refreshPosition(m: EntityManager, symbol: string, markPrice: string): Promise<void> {
  await m.query(
    `INSERT INTO position (symbol, quantity, cost_basis, avg_entry, realized_pnl, unrealized_pnl, updated_at)
     SELECT $1, COALESCE(SUM(base_qty), 0), COALESCE(SUM(base_cost), 0),
            CASE WHEN SUM(base_qty) > 0 THEN SUM(base_cost) / SUM(base_qty) END,
            COALESCE(SUM(realized_pnl), 0), COALESCE(SUM(base_qty) * $2 - SUM(base_cost), 0), now()
       FROM grid WHERE symbol = $1
     ON CONFLICT (symbol) DO UPDATE SET quantity = EXCLUDED.quantity, cost_basis = EXCLUDED.cost_basis,
       avg_entry = EXCLUDED.avg_entry, realized_pnl = EXCLUDED.realized_pnl,
       unrealized_pnl = EXCLUDED.unrealized_pnl, updated_at = now()`,
    [symbol, markPrice],
  );
}
