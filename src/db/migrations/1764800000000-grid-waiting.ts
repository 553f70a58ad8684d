import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A grid with a trigger price is 'waiting' until the price reaches it (docs/grid-rules.md, "Trigger price"): its row
 * says so, and the index of the grids a price concerns covers it, since a waiting grid watches its symbol's prices.
 */
export class GridWaiting1764800000000 implements MigrationInterface {
  name = 'GridWaiting1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE grid DROP CONSTRAINT grid_status_check`);
    await q.query(
      `ALTER TABLE grid ADD CONSTRAINT grid_status_check
         CHECK (status IN ('created', 'waiting', 'running', 'paused', 'stopped'))`,
    );
    await q.query(`DROP INDEX grid_symbol_active`);
    await q.query(
      `CREATE INDEX grid_symbol_active ON grid (symbol) WHERE status IN ('waiting', 'running', 'paused')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    // Refused (the constraint does not validate) while a grid waits: its state says 'waiting', and no older status fits.
    await q.query(`ALTER TABLE grid DROP CONSTRAINT grid_status_check`);
    await q.query(
      `ALTER TABLE grid ADD CONSTRAINT grid_status_check CHECK (status IN ('created', 'running', 'paused', 'stopped'))`,
    );
    await q.query(`DROP INDEX grid_symbol_active`);
    await q.query(`CREATE INDEX grid_symbol_active ON grid (symbol) WHERE status IN ('running', 'paused')`);
  }
}
