import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each trade carries the exchange's order id, so a user can match it with the exchange's own history (Bybit lists
 * executions by order id). Older rows take it from the exchange's own record of the execution where there is one
 * (paper), else from their order; a row whose order never learned its id stays null. The export reads trades in
 * (executed_at, id) pages: the index serves those pages and the time ranges `trade_time` served.
 */
export class TradeOrderId1764600000000 implements MigrationInterface {
  name = 'TradeOrderId1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE trade ADD COLUMN exchange_order_id text`);
    await q.query(
      `UPDATE trade t SET exchange_order_id = e.exchange_order_id FROM paper_execution e WHERE e.exec_id = t.exec_id`,
    );
    await q.query(
      `UPDATE trade t SET exchange_order_id = o.exchange_order_id FROM grid_order o
        WHERE o.client_order_id = t.client_order_id AND t.exchange_order_id IS NULL AND o.exchange_order_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX trade_time_id ON trade (executed_at, id)`);
    await q.query(`DROP INDEX IF EXISTS trade_time`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS trade_time ON trade (executed_at)`);
    await q.query(`DROP INDEX IF EXISTS trade_time_id`);
    await q.query(`ALTER TABLE trade DROP COLUMN IF EXISTS exchange_order_id`);
  }
}
