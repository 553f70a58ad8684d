/**
 * The order state machine of `grid_order`, one function per transition.
 *
 *                        commitStep inserts (the committer owns it)
 *                                    │
 *               claimIntent          ▼          recordAccepted               commitStep: the completing fill
 *   intent ───────────────────► placing ──────────────────────► placed ───────────────────────────────► filled
 *     │   ◄──── returnToIntent ───── │ ▲                           │
 *     │                   holdUnsent │ │ claimHeld                 │ cancelPlaced
 *     │                              ▼ │                           ▼
 *     └──────── holdUnsent ───────► held ───── requestCancel ───► cancelled
 *
 *   cancelled ◄── requestCancel (intent), cancelUnsent (intent | placing), settlePlacement, abandonPlacement
 *   rejected  ◄── rejectUnsent (intent | placing), recordRefusal (any), recordClosedOnExchange (any)
 *   cancel_requested: set on any row by requestCancel and by commitStep for the step's cancels; claims skip it.
 *
 * What must happen once per order: it reaches the exchange once per client order id, and its end (cancelled,
 * rejected) reaches the engine. Who may take each transition, and why taking it twice is harmless:
 *
 * - commitStep's insert (→ placing): the worker whose version-guarded commit applied the step, which sends the
 *   orders right after. Twice: ON CONFLICT DO NOTHING, and a stale version writes nothing.
 * - claimIntent (intent → placing): the reconciler, on any worker. Guarded: one claimer sends.
 * - claimHeld (held → placing): a price of the symbol, on any worker, only while the grid runs and no cancel is asked.
 *   Rows are locked in id order: a second claim waits and finds them placing.
 * - holdUnsent (intent | placing → held): the sender, on a rule that clears by itself. Guarded: a second announces
 *   nothing.
 * - noteHeldReason (held → held): a price judging held orders again. Twice: the same reason written again.
 * - rejectUnsent (intent | placing → rejected), cancelUnsent (intent | placing → cancelled): the sender, on a rule
 *   that does not clear or with the kill switch on. Guarded: one tells the engine.
 * - recordRefusal (any → rejected), recordClosedOnExchange (any → cancelled | rejected): the sender, on the
 *   exchange's answer. Twice: the same row; the engine ignores an event for an order it no longer has.
 * - recordAccepted (placing → placed): the sender the exchange accepted. A row moved on meanwhile (filled,
 *   cancelled) is not reopened, only given the exchange's id.
 * - requestCancel (intent | held → cancelled; the flag on any row): the committer of a step's cancels, the kill
 *   switch, the reconciler, the held-order release. The flag is idempotent; a repeated 'cancelled' is ignored.
 * - cancelPlaced (placed → cancelled): the canceller once the exchange confirms, the reconciler for an order the
 *   exchange closed unfilled. Guarded: one tells the engine, and a row filled meanwhile stays filled.
 * - settlePlacement (placing → placed | cancelled), abandonPlacement (placing → cancelled), returnToIntent
 *   (placing → intent): the reconciler, for a placement whose answer was lost. Guarded: of two workers' reconcilers
 *   one acts.
 * - commitStep's fill (any → filled): the commit applying the fill that completes the order (it may follow a
 *   recorded cancel: the fill raced it). It hangs off the version guard and the unique trade.exec_id.
 *
 * Only a 'placing' row is sent, and only by the caller that put it there; a resend of the same id after a crash is
 * recognised by the exchange (already-placed). recordRefusal, recordClosedOnExchange and the fill take a row in any
 * status on purpose: they record what the exchange says, which is final for that id whatever the store believed
 * meanwhile (the reconciler may have moved a slow placement back to intent, which must not be sent again).
 * Every end an order comes to is told to the engine by the caller whose transition applied; a repeat (a requested
 * cancel found cancelled already) is an event for an order the engine no longer has, which step() ignores without
 * writing anything.
 */
import type { DataSource } from 'typeorm';
import type { HeldOrder, OrderStatus, OrderStore, OrderToSend } from '../app/ports/orders.js';

interface SendRow {
  client_order_id: string;
  grid_id: string;
  symbol: string;
  side: OrderToSend['side'];
  type: OrderToSend['type'];
  purpose: OrderToSend['purpose'];
  price: string | null;
  quantity: string;
}

const toSend = (r: SendRow): OrderToSend => ({
  clientOrderId: r.client_order_id,
  gridId: r.grid_id,
  symbol: r.symbol,
  side: r.side,
  type: r.type,
  purpose: r.purpose,
  price: r.price,
  quantity: r.quantity,
});

type Rows<T> = [T[], number];

export class PgOrderStore implements OrderStore {
  constructor(private readonly ds: DataSource) {}

  /** Runs a guarded UPDATE ... RETURNING 1: true when the transition applied (its from-status held). */
  private async applied(sql: string, params: unknown[]): Promise<boolean> {
    const [rows] = (await this.ds.query(sql, params)) as Rows<unknown>;
    return rows.length > 0;
  }

  async claimIntent(clientOrderId: string): Promise<OrderToSend | null> {
    const [claimed] = (await this.ds.query(
      `UPDATE grid_order SET status = 'placing', updated_at = now()
        WHERE client_order_id = $1 AND status = 'intent' AND NOT cancel_requested RETURNING *`,
      [clientOrderId],
    )) as Rows<SendRow>;
    return claimed[0] ? toSend(claimed[0]) : null;
  }

  async claimHeld(clientOrderIds: readonly string[]): Promise<(OrderToSend & { reason: string | null })[]> {
    // Rows are locked in one order, so a second release judging the same orders waits for the first and then finds
    // them all taken, rather than claiming a share (which would announce one release in two messages).
    const [claimed] = (await this.ds.query(
      `WITH c AS (
         SELECT o.client_order_id FROM grid_order o JOIN grid g ON g.id = o.grid_id
          WHERE o.client_order_id = ANY($1) AND o.status = 'held' AND NOT o.cancel_requested AND g.status = 'running'
          ORDER BY o.client_order_id FOR UPDATE OF o)
       UPDATE grid_order o SET status = 'placing', updated_at = now()
         FROM c WHERE o.client_order_id = c.client_order_id
        RETURNING o.client_order_id, o.grid_id, o.symbol, o.side, o.type, o.purpose, o.price::text AS price,
                  o.quantity::text AS quantity, o.reason`,
      [clientOrderIds],
    )) as Rows<SendRow & { reason: string | null }>;
    return claimed.map((r) => ({ ...toSend(r), reason: r.reason }));
  }

  async rejectUnsent(clientOrderId: string, reason: string): Promise<boolean> {
    const [closed] = (await this.ds.query(
      `UPDATE grid_order SET status = 'rejected', reason = $2, updated_at = now()
        WHERE client_order_id = $1 AND status IN ('intent', 'placing') RETURNING client_order_id`,
      [clientOrderId, reason],
    )) as Rows<{ client_order_id: string }>;
    return closed.length > 0;
  }

  async holdUnsent(
    clientOrderId: string,
    reason: string,
    reasonPrefix: string,
  ): Promise<{ held: boolean; ongoing: boolean }> {
    const [row] = (await this.ds.query(
      `WITH held AS (
         UPDATE grid_order SET status = 'held', reason = $2, updated_at = now()
          WHERE client_order_id = $1 AND status IN ('intent', 'placing') RETURNING grid_id)
       SELECT EXISTS (SELECT 1 FROM held) AS held,
              EXISTS (SELECT 1 FROM grid_order o JOIN held h ON o.grid_id = h.grid_id
                       WHERE o.status = 'held' AND o.client_order_id <> $1 AND o.reason LIKE $3) AS ongoing`,
      [clientOrderId, reason, `${reasonPrefix}%`],
    )) as { held: boolean; ongoing: boolean }[];
    return { held: row?.held ?? false, ongoing: row?.ongoing ?? false };
  }

  async noteHeldReason(clientOrderId: string, reason: string): Promise<void> {
    await this.ds.query(
      `UPDATE grid_order SET reason = $2, updated_at = now() WHERE client_order_id = $1 AND status = 'held'`,
      [clientOrderId, reason],
    );
  }

  async cancelUnsent(clientOrderId: string, reason: string): Promise<boolean> {
    const [closed] = (await this.ds.query(
      `UPDATE grid_order SET status = 'cancelled', reason = $2, updated_at = now()
        WHERE client_order_id = $1 AND status IN ('intent', 'placing') RETURNING client_order_id`,
      [clientOrderId, reason],
    )) as Rows<{ client_order_id: string }>;
    return closed.length > 0;
  }

  async recordRefusal(clientOrderId: string, reason: string): Promise<void> {
    await this.ds.query(
      `UPDATE grid_order SET status = 'rejected', reason = $2, updated_at = now() WHERE client_order_id = $1`,
      [clientOrderId, reason],
    );
  }

  async recordClosedOnExchange(clientOrderId: string, status: 'cancelled' | 'rejected'): Promise<void> {
    await this.ds.query(`UPDATE grid_order SET status = $2, updated_at = now() WHERE client_order_id = $1`, [
      clientOrderId,
      status,
    ]);
  }

  async recordAccepted(
    clientOrderId: string,
    exchangeOrderId: string,
  ): Promise<{ status: OrderStatus; cancelRequested: boolean } | null> {
    const [placed] = (await this.ds.query(
      `UPDATE grid_order SET status = CASE WHEN status = 'placing' THEN 'placed' ELSE status END,
              exchange_order_id = $2, updated_at = now()
        WHERE client_order_id = $1 RETURNING cancel_requested, status`,
      [clientOrderId, exchangeOrderId],
    )) as Rows<{ cancel_requested: boolean; status: OrderStatus }>;
    const row = placed[0];
    return row ? { status: row.status, cancelRequested: row.cancel_requested } : null;
  }

  async requestCancel(
    clientOrderId: string,
  ): Promise<{ gridId: string; symbol: string; status: OrderStatus } | null> {
    const [rows] = (await this.ds.query(
      `UPDATE grid_order SET cancel_requested = true,
              status = CASE WHEN status IN ('intent', 'held') THEN 'cancelled' ELSE status END, updated_at = now()
        WHERE client_order_id = $1
        RETURNING grid_id, symbol, status`,
      [clientOrderId],
    )) as Rows<{ grid_id: string; symbol: string; status: OrderStatus }>;
    const row = rows[0];
    return row ? { gridId: row.grid_id, symbol: row.symbol, status: row.status } : null;
  }

  async cancelPlaced(clientOrderId: string): Promise<boolean> {
    return this.applied(
      `UPDATE grid_order SET status = 'cancelled', updated_at = now()
        WHERE client_order_id = $1 AND status = 'placed' RETURNING 1`,
      [clientOrderId],
    );
  }

  async settlePlacement(
    clientOrderId: string,
    status: 'placed' | 'cancelled',
    exchangeOrderId: string,
  ): Promise<boolean> {
    return this.applied(
      `UPDATE grid_order SET status = $2, exchange_order_id = $3, updated_at = now()
        WHERE client_order_id = $1 AND status = 'placing' RETURNING 1`,
      [clientOrderId, status, exchangeOrderId],
    );
  }

  async abandonPlacement(clientOrderId: string): Promise<boolean> {
    return this.applied(
      `UPDATE grid_order SET status = 'cancelled', updated_at = now()
        WHERE client_order_id = $1 AND status = 'placing' RETURNING 1`,
      [clientOrderId],
    );
  }

  async returnToIntent(clientOrderId: string): Promise<boolean> {
    return this.applied(
      `UPDATE grid_order SET status = 'intent', updated_at = now()
        WHERE client_order_id = $1 AND status = 'placing' RETURNING 1`,
      [clientOrderId],
    );
  }

  async heldOf(symbol: string, exceptGrids: readonly string[]): Promise<HeldOrder[]> {
    const rows = (await this.ds.query(
      `SELECT client_order_id, grid_id, symbol, side, type, purpose, price::text AS price, quantity::text AS quantity,
              cancel_requested, reason
         FROM grid_order WHERE symbol = $1 AND status = 'held' AND grid_id <> ALL($2)
        ORDER BY created_at, client_order_id`,
      [symbol, exceptGrids],
    )) as (SendRow & { cancel_requested: boolean; reason: string | null })[];
    return rows.map((r) => ({ ...toSend(r), reason: r.reason, cancelRequested: r.cancel_requested }));
  }

  async staleIntents(olderThanMs: number): Promise<string[]> {
    const rows = (await this.ds.query(
      `SELECT client_order_id FROM grid_order
        WHERE status = 'intent' AND NOT cancel_requested AND updated_at < now() - ($1 || ' milliseconds')::interval
        ORDER BY created_at LIMIT 1000`,
      [olderThanMs],
    )) as { client_order_id: string }[];
    return rows.map((r) => r.client_order_id);
  }

  async stalePlacements(
    olderThanMs: number,
  ): Promise<{ clientOrderId: string; gridId: string; cancelRequested: boolean }[]> {
    const rows = (await this.ds.query(
      `SELECT client_order_id, grid_id, cancel_requested FROM grid_order
        WHERE status = 'placing' AND updated_at < now() - ($1 || ' milliseconds')::interval LIMIT 1000`,
      [olderThanMs],
    )) as { client_order_id: string; grid_id: string; cancel_requested: boolean }[];
    return rows.map((r) => ({
      clientOrderId: r.client_order_id,
      gridId: r.grid_id,
      cancelRequested: r.cancel_requested,
    }));
  }

  async staleCancels(olderThanMs: number): Promise<string[]> {
    const rows = (await this.ds.query(
      `SELECT client_order_id FROM grid_order
        WHERE status = 'placed' AND cancel_requested AND updated_at < now() - ($1 || ' milliseconds')::interval
        LIMIT 1000`,
      [olderThanMs],
    )) as { client_order_id: string }[];
    return rows.map((r) => r.client_order_id);
  }

  async placedBefore(olderThanMs: number): Promise<{ clientOrderId: string; gridId: string }[]> {
    const rows = (await this.ds.query(
      `SELECT client_order_id, grid_id FROM grid_order
        WHERE status = 'placed' AND updated_at < now() - ($1 || ' milliseconds')::interval`,
      [olderThanMs],
    )) as { client_order_id: string; grid_id: string }[];
    return rows.map((r) => ({ clientOrderId: r.client_order_id, gridId: r.grid_id }));
  }

  async sentAmong(clientOrderIds: readonly string[]): Promise<Set<string>> {
    const rows = (await this.ds.query(
      `SELECT client_order_id FROM grid_order WHERE client_order_id = ANY($1) AND status IN ('placing', 'placed')`,
      [clientOrderIds],
    )) as { client_order_id: string }[];
    return new Set(rows.map((r) => r.client_order_id));
  }

  async openCount(): Promise<number> {
    const [{ open }] = (await this.ds.query(
      `SELECT count(*)::int AS open FROM grid_order WHERE status IN ('intent', 'placing', 'held', 'placed') AND NOT cancel_requested`,
    )) as [{ open: number }];
    return open;
  }
}
