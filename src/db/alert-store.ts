import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import {
  ALERT_CHUNK,
  type AlertGrid,
  type AlertOutcome,
  type AlertRecord,
  type AlertStore,
  type AlertToRecord,
  type LockedSymbols,
  type PendingAlert,
  type RecordedAlert,
} from '../app/ports/alerts.js';
import { ALERT_SOURCE } from '../app/tradingview.js';
import { LOCKS } from './locks.js';

/** Records a batch of alerts; a resent id is found by the unique key and answered with the alert it names. */
const INTAKE_SQL = `WITH input AS (
           SELECT nextval('alert_id_seq') AS id, t.*
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
                  WITH ORDINALITY AS t(external_id, symbol, type, payload, sender, n)),
         ins AS (
           INSERT INTO alert (id, source, external_id, symbol, type, payload, sender)
           SELECT id, '${ALERT_SOURCE}', external_id, symbol, type, payload::jsonb, sender FROM input ORDER BY n
           ON CONFLICT (source, external_id) DO NOTHING RETURNING id)
         SELECT input.n::int AS n, input.id::text AS id, ins.id IS NOT NULL AS inserted
           FROM input LEFT JOIN ins ON ins.id = input.id ORDER BY input.n`;

/**
 * What the pending index (migration 1764500000000) covers. The source is a literal, not a parameter: a planner that
 * cannot see the value cannot prove that the index's predicate holds, and would scan the whole table instead.
 */
const pending = (table: string) => `NOT ${table}.processed AND ${table}.source = '${ALERT_SOURCE}'`;

/**
 * The worker's reads of pending alerts, each of them a few index pages however many alerts were ever recorded
 * (test/integration/alert-queries.test.ts checks their plans).
 */
export const PENDING_SQL = {
  /** The symbols with pending alerts: a loose index scan, one descent of the index per symbol. */
  symbols: `WITH RECURSIVE s(symbol) AS (
      (SELECT symbol FROM alert WHERE ${pending('alert')} AND symbol IS NOT NULL ORDER BY symbol LIMIT 1)
      UNION ALL
      SELECT (SELECT a.symbol FROM alert a WHERE ${pending('a')} AND a.symbol > s.symbol ORDER BY a.symbol LIMIT 1)
        FROM s WHERE s.symbol IS NOT NULL)
    SELECT symbol FROM s WHERE symbol IS NOT NULL`,
  /** The symbols of pending alerts recorded over $1 ms ago. */
  stale: `SELECT DISTINCT symbol FROM alert
     WHERE ${pending('alert')} AND symbol IS NOT NULL AND created_at < now() - make_interval(secs => $1 / 1000.0)`,
  /**
   * The next chunk of the symbols $1: each symbol's oldest pending alerts by an ordered scan of the index, then the
   * oldest of those; with the symbols' active grids.
   */
  batch: `SELECT json_build_object(
      'alerts', (SELECT coalesce(json_agg(a ORDER BY a.id), '[]') FROM (
        SELECT p.id::text, p.symbol, p.type, p.payload FROM unnest($1::text[]) AS s(symbol)
          CROSS JOIN LATERAL (
            SELECT a.id, a.symbol, a.type, a.payload FROM alert a
             WHERE ${pending('a')} AND a.symbol = s.symbol ORDER BY a.id LIMIT ${ALERT_CHUNK}) p
         ORDER BY p.id LIMIT ${ALERT_CHUNK}) a),
      'grids', (SELECT coalesce(json_agg(g ORDER BY g.created_at, g.id), '[]') FROM (
        SELECT id, name, symbol, status, created_at FROM grid
         WHERE symbol = ANY($1::text[]) AND status <> 'stopped') g)) AS batch`,
} as const;

export class PgAlertStore implements AlertStore {
  constructor(private readonly ds: DataSource) {}

  async record(alerts: readonly AlertToRecord[]): Promise<RecordedAlert[]> {
    // A named statement: each pooled connection parses and plans it once, not on every batch.
    const pool = (this.ds.driver as unknown as { master: Pool }).master;
    return (
      await pool.query<RecordedAlert>({
        name: 'alert-intake',
        text: INTAKE_SQL,
        values: [
          alerts.map((a) => a.externalId),
          alerts.map((a) => a.symbol),
          alerts.map((a) => a.action),
          alerts.map((a) => JSON.stringify(a.payload)),
          alerts.map((a) => a.sender),
        ],
      })
    ).rows;
  }

  async idOf(externalId: string | null): Promise<string> {
    const [row] = (await this.ds.query(`SELECT id::text FROM alert WHERE source = $1 AND external_id = $2`, [
      ALERT_SOURCE,
      externalId,
    ])) as { id: string }[];
    return row?.id ?? '';
  }

  async pendingSymbols(): Promise<string[]> {
    return ((await this.ds.query(PENDING_SQL.symbols)) as { symbol: string }[]).map((r) => r.symbol);
  }

  async staleSymbols(olderThanMs: number): Promise<string[]> {
    return ((await this.ds.query(PENDING_SQL.stale, [olderThanMs])) as { symbol: string }[]).map(
      (r) => r.symbol,
    );
  }

  async withSymbolsLocked<T>(
    symbols: readonly string[],
    work: (locked: LockedSymbols) => Promise<T>,
  ): Promise<T> {
    // Session locks rather than a transaction save two round trips per job; they go with the connection if this
    // process dies.
    const runner = this.ds.createQueryRunner();
    await runner.connect();
    let locked = false;
    try {
      await runner.query(
        `SELECT pg_advisory_lock(${LOCKS.alertSymbol}, hashtext(s)) FROM unnest($1::text[]) AS s`,
        [symbols],
      );
      locked = true;
      return await work({
        async nextChunk() {
          // Read after the locks are held (a statement of its own, so it sees what the previous holder wrote).
          const [{ batch }] = (await runner.query(PENDING_SQL.batch, [symbols])) as [
            { batch: { alerts: PendingAlert[]; grids: AlertGrid[] } },
          ];
          return batch;
        },
        async mark(outcomes: readonly AlertOutcome[], release: boolean) {
          await runner.query(
            `WITH marked AS (
             UPDATE alert a SET processed = true, outcome = u.outcome, processed_at = now()
               FROM unnest($1::bigint[], $2::text[]) AS u(id, outcome) WHERE a.id = u.id AND NOT a.processed
             RETURNING 1)
           SELECT count(*) FROM marked${release ? ', pg_advisory_unlock_all()' : ''}`,
            [outcomes.map((o) => o.id), outcomes.map((o) => o.outcome)],
          );
          if (release) locked = false;
        },
      });
    } finally {
      // A connection goes back to the pool without locks, whatever happened.
      if (locked) await runner.query(`SELECT pg_advisory_unlock_all()`).catch(() => undefined);
      await runner.release();
    }
  }

  activeGrids(symbols: readonly string[]): Promise<AlertGrid[]> {
    return this.ds.query(
      `SELECT id, name, symbol, status FROM grid WHERE symbol = ANY($1::text[]) AND status <> 'stopped'
        ORDER BY created_at, id`,
      [symbols],
    );
  }

  async recent(limit: number): Promise<AlertRecord[]> {
    const rows = (await this.ds.query(
      `SELECT id::text, source, external_id, symbol, type, payload, sender, processed, outcome, created_at, processed_at
       FROM alert ORDER BY id DESC LIMIT $1`,
      [limit],
    )) as {
      id: string;
      source: string;
      external_id: string | null;
      symbol: string | null;
      type: string;
      payload: Record<string, unknown> | null;
      sender: string | null;
      processed: boolean;
      outcome: string | null;
      created_at: Date;
      processed_at: Date | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      source: r.source,
      externalId: r.external_id,
      symbol: r.symbol,
      type: r.type,
      payload: r.payload,
      sender: r.sender,
      processed: r.processed,
      outcome: r.outcome,
      createdAt: r.created_at,
      processedAt: r.processed_at,
    }));
  }
}
