import type { MigrationInterface, QueryRunner } from 'typeorm';

/** What the kill switch did with the base the grids held: 'off', the exits it sent, or why it sent none. */
export class KillSellOff1764200000000 implements MigrationInterface {
  name = 'KillSellOff1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE risk_incident ADD COLUMN sell_off text NOT NULL DEFAULT 'off'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE risk_incident DROP COLUMN IF EXISTS sell_off`);
  }
}
