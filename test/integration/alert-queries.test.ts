import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PENDING_SQL } from '../../src/db/alert-store.js';
import { migratedDatabase, type TestDatabase } from '../support/services.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

/**
 * How a plan reaches the alert table: "Seq Scan on alert" or the index each index scan reads (a bitmap heap scan
 * names no index; the bitmap index scans under it do).
 */
function alertScans(node: PlanNode, out: string[] = []): string[] {
  const index = node['Index Name'];
  if (index?.startsWith('alert')) out.push(`${node['Node Type']} on ${index}`);
  else if (node['Relation Name'] === 'alert' && !node['Node Type'].startsWith('Bitmap'))
    out.push(`${node['Node Type']} on alert`);
  for (const child of node.Plans ?? []) alertScans(child, out);
  return out;
}

const SYMBOLS = ['ADAUSDT', 'BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
const RECORDED = 40_000;

/**
 * The worker's reads of pending alerts against a table that has seen a long burst: tens of thousands of alerts, all
 * but a few processed, their old index entries not yet vacuumed. They must read the pending index, never the table:
 * a scan of every alert on each run made Postgres the webhook's bottleneck (issue 8's figure).
 */
describe('pending-alert queries', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let pendingIds: string[];

  beforeAll(async () => {
    ({ db, ds } = await migratedDatabase());
    // As between two autovacuum runs: the dead entries stay until an index scan passes over them.
    await ds.query(`ALTER TABLE alert SET (autovacuum_enabled = false)`);
    await ds.query(
      `INSERT INTO alert (source, external_id, symbol, type, payload)
       SELECT 'tradingview', 'x' || g, ($1::text[])[1 + g % 4], 'sell', jsonb_build_object('n', g)
         FROM generate_series(1, ${RECORDED}) AS g`,
      [SYMBOLS],
    );
    // Everything processed but the last five of BTC and ETH; SOL and ADA have nothing pending.
    await ds.query(
      `UPDATE alert SET processed = true, outcome = 'done', processed_at = now()
        WHERE NOT (symbol IN ('BTCUSDT', 'ETHUSDT') AND id > ${RECORDED - 20})`,
    );
    // Pending, but from another source: not the TradingView worker's.
    await ds.query(
      `INSERT INTO alert (source, external_id, symbol, type, payload) VALUES ('other', 'o1', 'SOLUSDT', 'sell', '{}')`,
    );
    pendingIds = (
      (await ds.query(
        `SELECT id::text FROM alert WHERE NOT processed AND source = 'tradingview' ORDER BY id`,
      )) as { id: string }[]
    ).map((r) => r.id);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const plan = async (sql: string, params: unknown[], analyze = false): Promise<PlanNode> => {
    const [row] = (await ds.query(
      `EXPLAIN (FORMAT JSON${analyze ? ', ANALYZE, BUFFERS' : ''}) ${sql}`,
      params,
    )) as { 'QUERY PLAN': [{ Plan: PlanNode }] }[];
    return row!['QUERY PLAN'][0].Plan;
  };

  it('find the pending symbols and their alerts in order, TradingView only', async () => {
    expect(pendingIds).toHaveLength(10);
    expect(await ds.query(PENDING_SQL.symbols)).toEqual([{ symbol: 'BTCUSDT' }, { symbol: 'ETHUSDT' }]);
    const [{ batch }] = (await ds.query(PENDING_SQL.batch, [SYMBOLS])) as [
      { batch: { alerts: { id: string; symbol: string }[] } },
    ];
    expect(batch.alerts.map((a) => a.id)).toEqual(pendingIds);
    const [{ batch: btcOnly }] = (await ds.query(PENDING_SQL.batch, [['BTCUSDT']])) as [
      { batch: { alerts: { symbol: string }[] } },
    ];
    expect(btcOnly.alerts.map((a) => a.symbol)).toEqual(Array(5).fill('BTCUSDT'));
    expect(await ds.query(PENDING_SQL.stale, [0])).toHaveLength(2);
    expect(await ds.query(PENDING_SQL.stale, [3_600_000])).toEqual([]);
  });

  for (const stats of ['before the table is analyzed', 'after ANALYZE'] as const) {
    it(`read the alert table through the pending index only, ${stats}`, async () => {
      if (stats === 'after ANALYZE') await ds.query(`ANALYZE alert`);
      for (const [sql, params] of [
        [PENDING_SQL.symbols, []],
        [PENDING_SQL.batch, [SYMBOLS]],
        [PENDING_SQL.stale, [0]],
      ] as const) {
        const scans = alertScans(await plan(sql, [...params]));
        expect(scans.length).toBeGreaterThan(0);
        for (const scan of scans) expect(scan).toMatch(/ on alert_pending$/);
      }
    });
  }

  it('read the index pages, not the table: a fifth of its pages at most', async () => {
    const pages = async (relation: string) =>
      Number(
        (
          (await ds.query(`SELECT pg_relation_size($1) / current_setting('block_size')::int AS n`, [
            relation,
          ])) as [{ n: string }]
        )[0].n,
      );
    const tablePages = await pages('alert');
    const indexPages = await pages('alert_pending');
    expect(tablePages).toBeGreaterThan(1000);
    // The first pass marks the dead entries it steps over; the next ones still step over them, a page at a time,
    // until VACUUM takes them away, but no longer visit the rows they point to.
    await ds.query(PENDING_SQL.symbols);
    await ds.query(PENDING_SQL.batch, [SYMBOLS]);
    const blocks = (node: PlanNode): number =>
      (node['Shared Hit Blocks'] ?? 0) + (node['Shared Read Blocks'] ?? 0);
    // Each index page once, plus the descents from the root and the pending rows themselves.
    const bound = indexPages + 40;
    expect(bound).toBeLessThan(tablePages / 5);
    expect(blocks(await plan(PENDING_SQL.symbols, [], true))).toBeLessThan(bound);
    expect(blocks(await plan(PENDING_SQL.batch, [SYMBOLS], true))).toBeLessThan(bound);
  });
});
