import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import type { FakeBybit } from '../fakes/bybit/server.js';
import { settle, startTestApp, type TestApp } from '../support/app.js';
import { startBtcFake, testnetEnv } from '../support/bybit.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';
import { until } from '../support/wait.js';

const OPERATOR: Actor = { id: 'test', via: 'cli', role: 'operator' };
const KEY = 'risk-e2e-key';
const SECRET = 'risk-e2e-secret';

/**
 * The risk triggers that are about the exchange, against the fake Bybit through the real client and streams: a
 * streamed price the REST API disagrees with is held, and an exchange whose calls keep failing (after their retries)
 * pulls the kill switch, whose cancellations then go through once the exchange answers again.
 */
describe('risk against (fake) Bybit', () => {
  let fake: FakeBybit;
  let db: TestDatabase;
  let app: TestApp;

  const riskAlerts = async () =>
    (await app.rt.queues.notifications.getJobs(['waiting', 'active', 'completed', 'delayed']))
      .map((j) => j.data as { category: string; severity: string; title: string; lines: string[] })
      .filter((n) => n.category === 'risk');

  beforeAll(async () => {
    fake = await startBtcFake(KEY, SECRET, { balances: { USDT: '100000' } });
    db = await createTestDatabase();
    app = await startTestApp({
      databaseUrl: db.url,
      prefix: testPrefix(),
      env: {
        ...testnetEnv(fake, KEY, SECRET),
        RISK_PRICE_CROSSCHECK_MS: '100',
        RISK_PRICE_SOURCE_GAP_PCT: '1',
        RISK_EVERY_MS: '200',
        KILL_CANCEL_DEADLINE_MS: '20000',
      },
    });
    await until(async () => (await app.rt.prices.get('BTCUSDT')) ?? undefined, 'the first price');
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await fake?.close();
  });

  it('holds a streamed price that the REST tickers disagree with, until the two agree again', async () => {
    // Let the cross-check read REST at least once, so the stream's next price has a second opinion to meet.
    await new Promise((r) => setTimeout(r, 300));
    // 1.5 % from the last price: within the jump limit (5 %), beyond the sources' gap (1 %).
    fake.ws.badPrint('BTCUSDT', '101500');
    const held = await until(
      async () =>
        (await riskAlerts()).find((a) => a.title === 'Risk: BTCUSDT price 101500 held for confirmation'),
      'the hold alert',
    );
    expect(held.lines).toEqual(["the exchange's REST API says 100000: 1.5 % apart (limit 1 %)"]);
    expect((await app.rt.prices.get('BTCUSDT'))?.price).toBe('100000');
    // The market really moves a little: stream and REST agree, the price is traded on again.
    fake.setPrice('BTCUSDT', '100300');
    await until(
      async () => ((await app.rt.prices.get('BTCUSDT'))?.price === '100300' ? true : undefined),
      'the agreed price',
    );
    expect((await riskAlerts()).filter((a) => a.title.includes('held'))).toHaveLength(1);
  });

  it('an exchange that keeps failing pulls the kill switch; the kill cancels every order once it answers', async () => {
    const created = await app.rt.grids.create(OPERATOR, {
      symbol: 'BTCUSDT',
      lower: '95000',
      upper: '105000',
      grids: 10,
      investment: '10000',
    });
    if (!created.ok) throw new Error(created.error.message);
    await until(
      async () => (fake.orders().filter((o) => o.orderStatus === 'New').length >= 9 ? true : undefined),
      'the grid orders on the exchange',
    );
    await settle(app.rt);
    expect(await app.rt.risk.isKilled()).toBe(false);
    // Every call now fails, after its retries (reads) or at once (writes are never repeated blindly).
    fake.faults.http5xx = 1;
    await until(async () => ((await app.rt.risk.isKilled()) ? true : undefined), 'the kill switch', 30_000);
    fake.faults.http5xx = 0;
    const state = await until(async () => {
      const s = await app.rt.risk.state();
      return s.lastIncident ? s : undefined;
    }, 'the incident');
    expect(state).toMatchObject({
      killed: true,
      trigger: 'error-rate',
      lastIncident: { trigger: 'error-rate', outcome: 'all-cancelled', ordersOpenAfter: 0, gridsStopped: 1 },
    });
    const figures = state.figures as { errorRatePct: string; failedCalls: number; calls: number };
    expect(figures.failedCalls).toBeGreaterThan(0);
    expect(Number(figures.errorRatePct)).toBeGreaterThan(2);
    expect(figures.calls).toBeGreaterThanOrEqual(20);
    expect(fake.orders().filter((o) => o.orderStatus === 'New')).toEqual([]);
    const kills = await until(async () => {
      const critical = (await riskAlerts()).filter((a) => a.severity === 'critical');
      return critical.length > 0 ? critical : undefined;
    }, 'the kill alert');
    await settle(app.rt);
    expect(kills.map((a) => a.title)).toEqual(['KILL SWITCH ON (error-rate)']);
    expect((await riskAlerts()).filter((a) => a.severity === 'critical')).toHaveLength(1);
  });
});
