import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The kill switch's state (one row: it survives restarts), its incidents, and the risk figures over time. */
export class Risk1764100000000 implements MigrationInterface {
  name = 'Risk1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE risk_state (
        id integer PRIMARY KEY CHECK (id = 1),
        killed boolean NOT NULL DEFAULT false,
        killed_at timestamptz,
        trigger text,
        figures jsonb,
        reset_at timestamptz,
        reset_by text
      )`);
    await q.query(`INSERT INTO risk_state (id, killed) VALUES (1, false)`);
    await q.query(`
      CREATE TABLE risk_incident (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        trigger text NOT NULL,
        actor text NOT NULL,
        figures jsonb,
        orders_open_before integer NOT NULL,
        orders_open_after integer NOT NULL,
        grids_stopped integer NOT NULL,
        duration_ms integer NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('all-cancelled', 'exchange-unreachable', 'orders-left'))
      )`);
    await q.query(`
      CREATE TABLE risk_metric (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        kind text NOT NULL,
        symbol text,
        level text NOT NULL,
        figures jsonb NOT NULL
      )`);
    await q.query(`CREATE INDEX risk_metric_kind_at ON risk_metric (kind, at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS risk_metric`);
    await q.query(`DROP TABLE IF EXISTS risk_incident`);
    await q.query(`DROP TABLE IF EXISTS risk_state`);
  }
}
