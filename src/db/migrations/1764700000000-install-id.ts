import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The database's identity: a uuid drawn once, when the database is made. Redis keys that feed the risk rules (the
 * drawdown peak, the latest figures, volatility windows and breakers, the exchange's error rate, the price checks, the
 * kill flag, the latest prices) carry it, so a new database started against a Redis that served another one starts
 * clean instead of judging its own equity against the other's peak. A restored backup keeps its identity, and so its
 * figures. Beside it, the latest check of the exchange API key (its warnings), for the daily report.
 */
export class InstallId1764700000000 implements MigrationInterface {
  name = 'InstallId1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE installation (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`INSERT INTO installation DEFAULT VALUES`);
    await q.query(`
      CREATE TABLE api_key_check (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        checked_at timestamptz NOT NULL,
        mode text NOT NULL,
        host text,
        warnings jsonb NOT NULL,
        deadline_day integer
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS api_key_check`);
    await q.query(`DROP TABLE IF EXISTS installation`);
  }
}
