import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook alerts keep the address they came from (for the audit trail and the allowlist's misses), and the
 * unprocessed ones of a symbol are found by an index: the alert worker applies them in order, symbol by symbol.
 */
export class AlertIntake1764400000000 implements MigrationInterface {
  name = 'AlertIntake1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE alert ADD COLUMN sender text`);
    await q.query(`CREATE INDEX alert_unprocessed ON alert (symbol, id) WHERE NOT processed`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS alert_unprocessed`);
    await q.query(`ALTER TABLE alert DROP COLUMN IF EXISTS sender`);
  }
}
