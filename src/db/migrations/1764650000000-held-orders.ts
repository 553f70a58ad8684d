import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An order refused by a pre-trade rule that clears by itself (a breaker, the BTC filter, the fat finger, the free
 * balance) is kept as 'held' and placed once the rule clears. Every price of a symbol asks whether it has held orders:
 * a partial index of the held ones alone answers from a page or two however many orders the table has seen.
 */
export class HeldOrders1764650000000 implements MigrationInterface {
  name = 'HeldOrders1764650000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE grid_order DROP CONSTRAINT grid_order_status_check`);
    await q.query(
      `ALTER TABLE grid_order ADD CONSTRAINT grid_order_status_check
         CHECK (status IN ('intent', 'placing', 'held', 'placed', 'filled', 'cancelled', 'rejected'))`,
    );
    await q.query(`CREATE INDEX grid_order_held ON grid_order (symbol, created_at) WHERE status = 'held'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS grid_order_held`);
    // A held order was never sent: going back, it is an order refused unsent.
    await q.query(`UPDATE grid_order SET status = 'rejected' WHERE status = 'held'`);
    await q.query(`ALTER TABLE grid_order DROP CONSTRAINT grid_order_status_check`);
    await q.query(
      `ALTER TABLE grid_order ADD CONSTRAINT grid_order_status_check
         CHECK (status IN ('intent', 'placing', 'placed', 'filled', 'cancelled', 'rejected'))`,
    );
  }
}
