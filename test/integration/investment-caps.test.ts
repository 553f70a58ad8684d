import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { createApp } from '../../src/composition/app.js';
import { startWorker } from '../../src/composition/worker-role.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log/logger.js';
import { movePrice, startTestApp, type TestApp } from '../support/app.js';
import { bearer, OPERATOR_TOKEN, startTestHttp, type TestHttp } from '../support/http.js';
import { createTestDatabase, REDIS_URL, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'ops', via: 'cli', role: 'operator' };
const CAPS = { MAX_GRID_INVESTMENT: '1000', MAX_TOTAL_INVESTMENT: '2500' };

const grid = (investment: string, over: Record<string, unknown> = {}) => ({
  symbol: 'BTCUSDT',
  lower: '90000',
  upper: '110000',
  grids: 10,
  investment,
  start: false,
  ...over,
});

/**
 * MAX_GRID_INVESTMENT and MAX_TOTAL_INVESTMENT hold on every surface, since every surface goes through the grid
 * service: directly (CLI, chat, TradingView), over the REST API, and from the grids file at start. Protects against a
 * grid that puts more money at stake than the operator allowed, including two creates racing past the total.
 */
describe('investment caps', () => {
  let db: TestDatabase;
  let app: TestApp;
  let http: TestHttp;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp({
      databaseUrl: db.url,
      prefix: testPrefix(),
      worker: false,
      env: { ...CAPS, API_TOKEN: OPERATOR_TOKEN },
    });
    http = await startTestHttp(app.rt);
  });
  afterAll(async () => {
    await http?.close();
    await app?.close();
    await db?.drop();
  });

  const grids = async () =>
    (await app.rt.ds.query(`SELECT investment::text FROM grid WHERE status <> 'stopped' ORDER BY id`)) as {
      investment: string;
    }[];

  it('refuses a grid above MAX_GRID_INVESTMENT, naming the figures (service and REST API)', async () => {
    const direct = await app.rt.grids.create(OPERATOR, grid('1000.01'));
    expect(direct).toEqual({
      ok: false,
      error: { kind: 'invalid', message: 'investment 1000.01 USDT is above MAX_GRID_INVESTMENT 1000' },
    });
    const preview = await app.rt.grids.preview(OPERATOR, grid('2000'));
    expect(preview.ok ? null : preview.error.message).toBe(
      'investment 2000 USDT is above MAX_GRID_INVESTMENT 1000',
    );
    const rest = await fetch(`${http.url}/api/grids`, {
      method: 'POST',
      headers: { ...bearer(OPERATOR_TOKEN), 'content-type': 'application/json' },
      body: JSON.stringify(grid('2000')),
    });
    expect(rest.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(await rest.json())).toContain(
      'investment 2000 USDT is above MAX_GRID_INVESTMENT 1000',
    );
    expect(await grids()).toEqual([]);
  });

  it('refuses a grid that takes the active grids above MAX_TOTAL_INVESTMENT, exactly at the figure', async () => {
    for (const investment of ['1000', '999.99']) {
      const ok = await app.rt.grids.create(OPERATOR, grid(investment));
      if (!ok.ok) throw new Error(ok.error.message);
    }
    // 1999.99 active: 500.01 would be exactly 2500 (allowed), 500.02 one cent above.
    const above = await app.rt.grids.create(OPERATOR, grid('500.02'));
    expect(above.ok ? null : above.error.message).toBe(
      'total investment would be 2500.01 USDT (1999.99 in 2 active grids + 500.02), above MAX_TOTAL_INVESTMENT 2500',
    );
    const rest = await fetch(`${http.url}/api/grids`, {
      method: 'POST',
      headers: { ...bearer(OPERATOR_TOKEN), 'content-type': 'application/json' },
      body: JSON.stringify(grid('600')),
    });
    expect(rest.status).toBe(409);
    expect(JSON.stringify(await rest.json())).toContain(
      'total investment would be 2599.99 USDT (1999.99 in 2 active grids + 600), above MAX_TOTAL_INVESTMENT 2500',
    );
    const exact = await app.rt.grids.create(OPERATOR, grid('500.01'));
    expect(exact.ok).toBe(true);
    // A stopped grid no longer counts.
    const [first] = (await app.rt.ds.query(`SELECT id FROM grid ORDER BY id LIMIT 1`)) as { id: string }[];
    expect((await app.rt.grids.stop(OPERATOR, first!.id)).ok).toBe(true);
    expect((await app.rt.grids.create(OPERATOR, grid('1000'))).ok).toBe(true);
    expect((await grids()).map((g) => g.investment)).toEqual(['999.99', '500.01', '1000']);
  });

  it('lets concurrent creates through only as far as the total allows', async () => {
    await app.rt.ds.query(`UPDATE grid SET status = 'stopped'`);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => app.rt.grids.create(OPERATOR, grid('1000'))),
    );
    // 2,500 allows two grids of 1,000: the other two see them, whatever the interleaving.
    expect(results.filter((r) => r.ok)).toHaveLength(2);
    expect(results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.error.message))).toEqual([
      'total investment would be 3000 USDT (2000 in 2 active grids + 1000), above MAX_TOTAL_INVESTMENT 2500',
      'total investment would be 3000 USDT (2000 in 2 active grids + 1000), above MAX_TOTAL_INVESTMENT 2500',
    ]);
  });
});

describe('investment caps at start', () => {
  it('hold for the grids file, and for a grid created before the cap when it starts', async () => {
    const db = await createTestDatabase();
    const prefix = testPrefix();
    // A grid made while no cap was set, waiting to be started.
    const before = await startTestApp({ databaseUrl: db.url, prefix, worker: false });
    const old = await before.rt.grids.create(OPERATOR, grid('2000', { name: 'old' }));
    if (!old.ok) throw new Error(old.error.message);
    await before.close();

    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const config = loadConfig({
      DATABASE_URL: db.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      MARKET_DATA: 'none',
      MARKET_SYMBOLS: 'BTCUSDT',
      LOG_LEVEL: 'info',
      ...CAPS,
    });
    const rt = await createApp(
      config,
      createLogger({ level: 'info', format: 'json', isTty: false, destination: sink }),
    );
    const worker = await startWorker(rt, {
      grids: [
        { ...grid('1500'), name: 'big', mode: 'arithmetic', start: true },
        { ...grid('400'), name: 'small', mode: 'arithmetic', start: true },
      ],
    });
    try {
      await movePrice(rt, 'BTCUSDT', '100000');
      await worker.bootstrapped;
      const messages = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
      expect(messages).toContain(
        'grid big from the grids file: investment 1500 USDT is above MAX_GRID_INVESTMENT 1000',
      );
      expect(messages).toContain('grid small created from the grids file (paper money)');
      // The old grid is within no cap now: it does not start.
      const started = await rt.grids.start(OPERATOR, 'old');
      expect(started.ok ? null : started.error.message).toBe(
        'investment 2000 USDT is above MAX_GRID_INVESTMENT 1000',
      );
      const rows = (await rt.ds.query(`SELECT name, status FROM grid ORDER BY id`)) as {
        name: string;
        status: string;
      }[];
      expect(rows).toEqual([
        { name: 'old', status: 'created' },
        { name: 'small', status: 'running' },
      ]);
    } finally {
      await worker.stop();
      await rt.close();
      await db.drop();
    }
  });
});
