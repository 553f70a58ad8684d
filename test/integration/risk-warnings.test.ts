import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/app/ports/core.js';
import { RiskMonitor } from '../../src/app/risk-monitor.js';
import { RedisCallStats } from '../../src/db/call-stats-store.js';
import { PgRiskBook, RedisRiskFigures } from '../../src/db/risk-store.js';
import { QueueNotifier } from '../../src/jobs/bus.js';
import { redisConnection } from '../../src/jobs/queues.js';
import { createLogger } from '../../src/log/logger.js';
import { PriceCache } from '../../src/market/price-cache.js';
import { migratedDatabase, REDIS_URL, type TestDatabase, testPrefix } from '../support/services.js';

/**
 * Risk warnings are keyed by the event they report, not by the moment they were said (issue 14: `risk-<what>-<now>`).
 * Protects: a risk check run twice (a redelivered job, another worker, a retry after a crash between deciding and
 * announcing) warning twice about one drawdown, one breaker trip or one held price; and a later event of the same
 * kind being swallowed as a repeat. Notifications go through the real queue, whose job id is the key.
 */
describe('risk warnings: one per event, whichever process says it', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  let prefix: string;
  let queue: Queue;
  let prices: PriceCache;
  const log = createLogger({ level: 'silent', format: 'json', isTty: false });

  beforeAll(async () => {
    ({ db, ds } = await migratedDatabase());
  });
  afterAll(async () => {
    await queue?.close();
    await ds.destroy();
    await db.drop();
    await redis.quit();
  });
  beforeEach(async () => {
    prefix = testPrefix();
    await queue?.close();
    queue = new Queue('notifications', { connection: redisConnection(REDIS_URL), prefix });
    prices = new PriceCache(redis, `${prefix}:prices`);
    await ds.query(`DELETE FROM grid`);
  });
  /** A monitor as one process builds it; two of them are two processes sharing the database and Redis. */
  const monitor = ({ calmMs = 600_000, maxJumpPct = '5' } = {}) =>
    new RiskMonitor({
      figures: new RedisRiskFigures(redis, `${prefix}:db:test`),
      book: new PgRiskBook(ds),
      risk: {
        isKilled: async () => false,
        kill: async () => {
          throw new Error('no kill expected here');
        },
      },
      callStats: new RedisCallStats(redis, `${prefix}:db:test`),
      prices,
      notifier: new QueueNotifier(queue),
      log,
      limits: {
        drawdown: { warnPct: '3', killPct: '50' },
        errorRate: { killPct: '2', minCalls: 20, windowMs: 60_000 },
        volatility: { window: 10, maxDeviationPct: '5', calmMs },
        priceCheck: { maxJumpPct, maxSourceGapPct: '1' },
      },
    });

  const warnings = async () =>
    (await queue.getJobs(['waiting', 'active', 'completed', 'delayed']))
      .map((j) => j.data as Notification)
      .filter((n) => n.category === 'risk')
      .sort((a, b) => a.key.localeCompare(b.key));

  let seq = 0;
  const price = (symbol: string, p: string) =>
    prices.set([{ symbol, price: p, atMs: Date.now(), seq: Date.now() * 1000 + (++seq % 1000) }]);

  it('drawdown: said once per episode by any number of checks and processes; a new episode is said again', async () => {
    // 1,000 USDT and 0.01 BTC: 2,000 at 100,000; 1,930 at 93,000 (3.5 % down from the peak).
    await ds.query(
      `INSERT INTO grid (name, symbol, lower, upper, grid_count, mode, investment, maker_fee, taker_fee, status, source,
         state, quote_balance, base_qty)
       VALUES ('dd', 'BTCUSDT', 90000, 110000, 10, 'arithmetic', 2000, 0.001, 0.001, 'running', 'test', '{}', 1000, 0.01)`,
    );
    const a = monitor();
    const b = monitor();
    await price('BTCUSDT', '100000');
    expect(await a.evaluate()).toMatchObject({ peak: '2000', drawdownLevel: 'ok' });
    await price('BTCUSDT', '93000');
    expect((await a.evaluate()).drawdownLevel).toBe('warn');
    await a.evaluate(); // the same check again in the same process
    await b.evaluate(); // and in another one, which has never said anything
    expect((await warnings()).map((w) => w.title)).toEqual(['Risk: drawdown 3.5 % from the peak 2000']);

    // Back above the warning level, then below it again from the same peak: a new episode, said again.
    await price('BTCUSDT', '100000');
    expect((await b.evaluate()).drawdownLevel).toBe('ok');
    await price('BTCUSDT', '93000');
    await b.evaluate();
    await a.evaluate();
    const said = await warnings();
    expect(said).toHaveLength(2);
    expect(new Set(said.map((w) => w.key)).size).toBe(2);
    for (const w of said) expect(w.key).toMatch(/^risk-drawdown-\d+$/);
  });

  it('a check that died after deciding and before announcing is announced by the next one, under the same key', async () => {
    await ds.query(
      `INSERT INTO grid (name, symbol, lower, upper, grid_count, mode, investment, maker_fee, taker_fee, status, source,
         state, quote_balance, base_qty)
       VALUES ('dd2', 'BTCUSDT', 90000, 110000, 10, 'arithmetic', 2000, 0.001, 0.001, 'running', 'test', '{}', 1000, 0.01)`,
    );
    await price('BTCUSDT', '100000');
    await monitor().evaluate();
    await price('BTCUSDT', '93000');
    // What the dead check had done at 93,000: recorded the change to 'warn' (drawing its episode), announced nothing.
    const figures = new RedisRiskFigures(redis, `${prefix}:db:test`);
    const episode = await figures.raiseWarning('drawdown', 'warn');
    expect(episode).not.toBeNull();
    await monitor().evaluate();
    await monitor().evaluate();
    expect((await warnings()).map((w) => w.key)).toEqual([`risk-drawdown-${episode}`]);
    // Announced now: nothing more to say at this level.
    expect(await figures.raiseWarning('drawdown', 'warn')).toBeNull();
  });

  it('volatility: one warning per breaker episode and symbol; a trip after calming down is a new one', async () => {
    const calmMs = 400;
    const a = monitor({ calmMs, maxJumpPct: '50' });
    const b = monitor({ calmMs, maxJumpPct: '50' });
    for (let i = 0; i < 9; i++) await a.admitPrice('ETHUSDT', '3600');
    expect(await a.trippedSymbols()).toEqual([]);
    await a.admitPrice('ETHUSDT', '3924'); // 8 % from the window's average: tripped
    expect(await a.trippedSymbols()).toEqual(['ETHUSDT']);
    // The same price again (a redelivered job) and more trips while tripped, in this process and another.
    await a.onPrice('ETHUSDT', '3924');
    await b.admitPrice('ETHUSDT', '3930');
    expect(await b.trippedSymbols()).toEqual(['ETHUSDT']);
    expect((await warnings()).map((w) => w.title)).toEqual([
      'Risk: ETHUSDT volatility breaker tripped: no new buys',
    ]);
    // Calm for calmMs: the breaker lets go; the next trip is a new event, said again, by either process.
    await new Promise((r) => setTimeout(r, calmMs + 100));
    expect(await a.trippedSymbols()).toEqual([]);
    await b.onPrice('ETHUSDT', '4300');
    expect(await b.trippedSymbols()).toEqual(['ETHUSDT']);
    const said = await warnings();
    expect(said.map((w) => w.title)).toEqual([
      'Risk: ETHUSDT volatility breaker tripped: no new buys',
      'Risk: ETHUSDT volatility breaker tripped: no new buys',
    ]);
    expect(new Set(said.map((w) => w.key)).size).toBe(2);
  });

  it('a held price: said once per hold, whichever process holds; the next hold after an admitted price is said', async () => {
    const a = monitor();
    const b = monitor();
    expect(await a.admitPrice('BTCUSDT', '100000')).toBe(true);
    expect(await a.admitPrice('BTCUSDT', '92000')).toBe(false); // 8 % down: held
    expect(await b.admitPrice('BTCUSDT', '108000')).toBe(false); // 8 % up from the last admitted, and from the held
    expect((await warnings()).map((w) => w.title)).toEqual([
      'Risk: BTCUSDT price 92000 held for confirmation',
    ]);
    expect(await b.admitPrice('BTCUSDT', '108100')).toBe(true); // confirms the held 108,000: the hold is over
    expect(await a.admitPrice('BTCUSDT', '99000')).toBe(false); // a new jump: a new hold
    const said = await warnings();
    expect(said.map((w) => w.title).sort()).toEqual([
      'Risk: BTCUSDT price 92000 held for confirmation',
      'Risk: BTCUSDT price 99000 held for confirmation',
    ]);
    expect(new Set(said.map((w) => w.key)).size).toBe(2);
  });
});
