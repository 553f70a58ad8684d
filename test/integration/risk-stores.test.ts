import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseScope } from '../../src/app/database-scope.js';
import { ReadinessProbe, ReadinessView } from '../../src/app/readiness.js';
import { RedisCallStats } from '../../src/db/call-stats-store.js';
import { PgRedisInstallScope } from '../../src/db/install-scope-store.js';
import { PgPreTradeReads } from '../../src/db/pre-trade-store.js';
import { PgPing, RedisReadinessRecords } from '../../src/db/readiness-store.js';
import { PgKillSwitchStore, RedisKillFlag } from '../../src/db/risk-store.js';
import { createLogger } from '../../src/log/logger.js';
import { migratedDatabase, REDIS_URL, type TestDatabase, testPrefix } from '../support/services.js';

/**
 * The risk stores on a real Postgres and Redis: the statements moved out of the app (issue 14) read and write what
 * the app relies on, and the Redis keys are the ones data written before the move is under.
 */
describe('risk stores', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const log = createLogger({ level: 'silent', format: 'json', isTty: false });

  beforeAll(async () => {
    ({ db, ds } = await migratedDatabase());
    await ds.query(
      `INSERT INTO grid (name, symbol, lower, upper, grid_count, mode, investment, maker_fee, taker_fee, status, source,
         state, quote_balance, base_qty, stop_loss)
       VALUES ('a', 'BTCUSDT', 90000, 110000, 10, 'arithmetic', 1000, 0.001, 0.001, 'running', 'test', '{}', 1000, 0.5, 85000),
              ('b', 'BTCUSDT', 90000, 110000, 10, 'arithmetic', 1000, 0.001, 0.001, 'stopped', 'test', '{}', 1000, 0.25, NULL),
              ('c', 'ETHUSDT', 3000, 4000, 10, 'arithmetic', 1000, 0.001, 0.001, 'created', 'test', '{}', 1000, 0, NULL)`,
    );
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
    await redis.quit();
  });

  const ids = async () =>
    new Map(
      ((await ds.query(`SELECT id, name FROM grid`)) as { id: string; name: string }[]).map((g) => [
        g.name,
        g.id,
      ]),
    );

  it('the kill switch: one claim turns it on, one turns it off, the incident is kept whole', async () => {
    const store = new PgKillSwitchStore(ds);
    expect(await store.state()).toEqual({
      killed: false,
      killedAt: null,
      trigger: null,
      figures: null,
      lastIncident: null,
    });
    expect(await store.claimKill('drawdown', { peak: '2000' })).toBe(true);
    expect(await store.claimKill('error-rate', null)).toBe(false);
    const incident = await store.recordIncident({
      trigger: 'drawdown',
      actor: 'system:risk',
      figures: { peak: '2000' },
      ordersOpenBefore: 4,
      ordersOpenAfter: 0,
      gridsStopped: 2,
      durationMs: 12,
      outcome: 'all-cancelled',
      sellOff: 'off',
    });
    expect(incident).toMatchObject({ trigger: 'drawdown', ordersOpenBefore: 4, outcome: 'all-cancelled' });
    expect(await store.state()).toMatchObject({
      killed: true,
      trigger: 'drawdown',
      figures: { peak: '2000' },
      lastIncident: incident,
    });
    expect(await store.claimReset('cli:ops')).toBe(true);
    expect(await store.claimReset('cli:ops')).toBe(false);
    const [row] = (await ds.query(`SELECT killed, reset_by FROM risk_state`)) as {
      killed: boolean;
      reset_by: string;
    }[];
    expect(row).toEqual({ killed: false, reset_by: 'cli:ops' });
  });

  it('what a kill works through: the grids it stops, the stopped ones holding base, the cancels to confirm', async () => {
    const store = new PgKillSwitchStore(ds);
    const g = await ids();
    expect((await store.gridsToStop()).sort()).toEqual([g.get('a'), g.get('c')].sort());
    expect(await store.stoppedHoldingBase([g.get('a')!, g.get('b')!, g.get('c')!])).toEqual([g.get('b')]);
    await ds.query(
      `INSERT INTO grid_order (client_order_id, grid_id, symbol, side, type, purpose, price, quantity, status, cancel_requested)
       VALUES ($1 || '-1-1', $1, 'BTCUSDT', 'buy', 'limit', 'grid', 95000, 0.01, 'placed', true),
              ($1 || '-2-1', $1, 'BTCUSDT', 'buy', 'limit', 'grid', 94000, 0.01, 'placed', false),
              ($1 || '-3-1', $1, 'BTCUSDT', 'buy', 'limit', 'grid', 93000, 0.01, 'intent', true)`,
      [g.get('a')],
    );
    expect(await store.cancelsToConfirm()).toEqual([`${g.get('a')}-1-1`]);
  });

  it('the kill flag is <scope>:killed', async () => {
    const scope = `${testPrefix()}:db:x`;
    const flag = new RedisKillFlag(redis, scope);
    expect(await flag.isKilled()).toBe(false);
    await flag.set(true);
    expect(await redis.get(`${scope}:killed`)).toBe('1');
    expect(await flag.isKilled()).toBe(true);
    await flag.set(false);
    expect(await redis.exists(`${scope}:killed`)).toBe(0);
  });

  it('pre-trade reads: the grids, and the counts and positions only when asked', async () => {
    const reads = new PgPreTradeReads(ds);
    const g = await ids();
    const lean = await reads.book([g.get('a')!], { counts: false, positions: false });
    expect([...lean.grids.values()]).toEqual([{ id: g.get('a'), status: 'running', stop_loss: '85000' }]);
    expect(lean.openBySymbol.size + lean.positions.size).toBe(0);
    const full = await reads.book([g.get('a')!], { counts: true, positions: true });
    expect(full.openBySymbol.get('BTCUSDT')).toBe(1); // placed and no cancel asked
    expect(full.positions.get('BTCUSDT')).toBe('0.75');
    expect(await reads.btcCloses(3_600_000)).toBeNull();
    await ds.query(
      `INSERT INTO ohlcv (symbol, interval, open_time, open, high, low, close, volume) VALUES
         ('BTCUSDT', '1', now() - interval '61 minutes', 100000, 100000, 100000, 100000, 0),
         ('BTCUSDT', '1', now() - interval '1 minute', 96500, 96500, 96500, 96500, 0)`,
    );
    expect(await reads.btcCloses(3_600_000)).toEqual(['100000', '96500']);
  });

  it("the database's scope: its own id under the prefix, and a warning when the prefix served another", async () => {
    const prefix = testPrefix();
    const warnings: string[] = [];
    const spy = { ...log, warn: (m: unknown) => warnings.push(String(m)) } as typeof log;
    const [{ id }] = (await ds.query(`SELECT id FROM installation`)) as [{ id: string }];
    const store = new PgRedisInstallScope(ds, redis);
    expect(await databaseScope(store, prefix, spy)).toBe(`${prefix}:db:${id}`);
    expect(await redis.get(`${prefix}:database`)).toBe(id);
    expect(warnings).toEqual([]);
    await redis.set(`${prefix}:database`, 'another');
    await databaseScope(store, prefix, spy);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('last served another database (another)');
  });

  it('the error-rate window counts under <scope>:exchange-calls:<bucket>', async () => {
    const scope = testPrefix();
    const now = 1_760_000_005_000;
    const stats = new RedisCallStats(redis, scope, () => now);
    await stats.add({ ok: true, reason: null });
    await stats.add({ ok: false, reason: 'ambiguous:timeout', retries: 2 });
    expect(await redis.hgetall(`${scope}:exchange-calls:1760000000000`)).toEqual({
      ok: '1',
      'failed:ambiguous:timeout': '1',
      retries: '2',
    });
    expect(await stats.read(60_000)).toEqual({
      total: 2,
      ok: 1,
      failed: 1,
      retries: 2,
      byReason: { 'ambiguous:timeout': 1 },
    });
  });

  it('readiness: the worker records under <prefix>:readiness, the api reads it and pings Postgres', async () => {
    const prefix = testPrefix();
    const records = new RedisReadinessRecords(redis, prefix);
    const view = () => new ReadinessView({ records, postgres: new PgPing(ds), log });
    expect(await view().current()).toEqual({
      ready: false,
      checks: { postgres: 'ok', redis: 'ok', worker: 'unknown', exchange: 'unknown' },
      ageMs: null,
    });
    await new ReadinessProbe({ records, log, checks: { exchange: async () => 'fine' } }).refresh();
    expect(JSON.parse((await redis.get(`${prefix}:readiness`))!)).toMatchObject({
      checks: { exchange: 'ok' },
    });
    expect(await redis.pttl(`${prefix}:readiness`)).toBeGreaterThan(0);
    expect(await view().current()).toMatchObject({
      ready: true,
      checks: { postgres: 'ok', redis: 'ok', worker: 'ok', exchange: 'ok' },
    });
    await redis.set(`${prefix}:readiness`, 'not json');
    expect((await view().current()).checks.worker).toBe('unknown');
  });
});
