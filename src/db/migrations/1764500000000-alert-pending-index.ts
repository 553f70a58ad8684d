import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The alert worker finds pending alerts by this index alone. The index it replaces left `source` out of its predicate,
 * so the worker's `source = 'tradingview'` filter let the planner prefer the (source, external_id) key and read every
 * alert ever recorded on each run: 2 to 8 ms a run at 60,000 rows and growing, which made Postgres the webhook's
 * bottleneck under load. With the source in the predicate, a pending alert is found in a few index pages, and the
 * worker's ordered index scans mark the entries of processed alerts dead as they pass them (a bitmap scan does not).
 */
export class AlertPendingIndex1764500000000 implements MigrationInterface {
  name = 'AlertPendingIndex1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX alert_pending ON alert (symbol, id) WHERE NOT processed AND source = 'tradingview'`,
    );
    await q.query(`DROP INDEX IF EXISTS alert_unprocessed`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX alert_unprocessed ON alert (symbol, id) WHERE NOT processed`);
    await q.query(`DROP INDEX IF EXISTS alert_pending`);
  }
}
