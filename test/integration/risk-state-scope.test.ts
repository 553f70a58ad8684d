import { afterAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'ops', via: 'cli', role: 'operator' };

/**
 * Risk state belongs to its database. Protects against issue 13's first-start kill: a new database started against a
 * Redis (same QUEUE_PREFIX) that had served another database took the drawdown peak (2,999) from Redis and the equity
 * (1,000) from the new database, a 66.7 % "drawdown", and pulled the kill switch. Every Redis figure that can feed a
 * kill (peak, latest figures, volatility breakers, the exchange's error rate, the price checks, the latest prices) must
 * start clean on the new database.
 */
describe('a new database with an old Redis', () => {
  const prefix = testPrefix();
  const dbs: TestDatabase[] = [];
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const db of dbs) await db.drop();
  });

  // No worker: nothing runs in the background, every figure is made here.
  async function start(): Promise<TestApp> {
    const db = await createTestDatabase();
    dbs.push(db);
    const app = await startTestApp({
      databaseUrl: db.url,
      prefix,
      worker: false,
      env: { RISK_PRICE_JUMP_PCT: '50', RISK_VOLATILITY_CALM_MS: '600000' },
    });
    apps.push(app);
    return app;
  }

  const grid = (investment: string) => ({
    symbol: 'BTCUSDT',
    lower: '90000',
    upper: '110000',
    grids: 10,
    investment,
    start: false,
  });

  it('starts clean: no kill, the drawdown measured from its own peak', async () => {
    // Database A: 2,999 of equity (a grid not started holds its investment in quote), a tripped ETH breaker, a last
    // admitted BTC price, a failing exchange.
    const a = await start();
    await a.rt.prices.set([{ symbol: 'BTCUSDT', price: '100000', atMs: Date.now() }]);
    expect(await a.rt.monitor.admitPrice('BTCUSDT', '100000')).toBe(true);
    for (let i = 0; i < 9; i++) await a.rt.monitor.admitPrice('ETHUSDT', '3600');
    await a.rt.monitor.admitPrice('ETHUSDT', '3924');
    expect(await a.rt.monitor.trippedSymbols()).toEqual(['ETHUSDT']);
    const created = await a.rt.grids.create(OPERATOR, grid('2999'));
    if (!created.ok) throw new Error(created.error.message);
    expect(await a.rt.monitor.evaluate()).toMatchObject({ peak: '2999', drawdownLevel: 'ok' });
    for (let i = 0; i < 30; i++) a.rt.callStats.record({ ok: false, reason: 'ambiguous:timeout' });
    for (let i = 0; i < 100 && (await a.rt.callStats.read(60_000)).failed < 30; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect((await a.rt.callStats.read(60_000)).failed).toBe(30);
    await apps.shift()!.close();

    // Database B, new, on the same Redis and QUEUE_PREFIX: none of A's figures.
    const b = await start();
    expect(await b.rt.monitor.latest()).toBeNull();
    expect(await b.rt.monitor.trippedSymbols()).toEqual([]);
    expect((await b.rt.callStats.read(60_000)).total).toBe(0);
    expect(await b.rt.prices.all()).toEqual([]);
    // A's last BTC price is not B's: 40,000 is B's first price, not a 60 % jump to hold.
    expect(await b.rt.monitor.admitPrice('BTCUSDT', '40000')).toBe(true);
    const own = await b.rt.grids.create(OPERATOR, grid('1000'));
    if (!own.ok) throw new Error(own.error.message);
    const figures = await b.rt.monitor.evaluate();
    expect(figures).toMatchObject({
      equity: '1000',
      peak: '1000',
      drawdownPct: '0',
      drawdownLevel: 'ok',
      errorRateLevel: 'ok',
      breakers: [],
    });
    expect(await b.rt.risk.isKilled()).toBe(false);
    expect((await b.rt.risk.state()).killed).toBe(false);
  });

  // Protects: job ids restart with a new database (incident 1, grid g1, its client order ids), and a Redis that served
  // an old one still holds that database's completed jobs under the same ids; BullMQ drops a job whose id exists, so
  // the new database's first kill alert (nt-kill-1) was silently never queued, nor its fills' events and messages.
  it("queues the new database's kill alert #1 although the old database's #1 is still in Redis", async () => {
    const alertsOf = async (app: TestApp) =>
      (await app.rt.queues.notifications.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']))
        .map((j) => j.id!)
        .filter((id) => /^nt-.*kill-1$/.test(id))
        .sort();
    const a = await start();
    const killedA = await a.rt.risk.kill(OPERATOR, 'manual: old database');
    if (!killedA.ok) throw new Error(killedA.error.message);
    expect(killedA.value.id).toBe('1');
    await apps.pop()!.close();

    const b = await start();
    expect(b.rt.jobTag).not.toBe(a.rt.jobTag);
    const killedB = await b.rt.risk.kill(OPERATOR, 'manual: new database');
    if (!killedB.ok) throw new Error(killedB.error.message);
    expect(killedB.value.id).toBe('1');
    expect(await alertsOf(b)).toEqual([`nt-${a.rt.jobTag}-kill-1`, `nt-${b.rt.jobTag}-kill-1`].sort());
    const job = await b.rt.queues.notifications.getJob(`nt-${b.rt.jobTag}-kill-1`);
    expect(job?.data.title).toContain('manual: new database');
  });
});
