import { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTS_TTL_MS, MetricsSource } from '../../src/app/metrics-source.js';
import type { MetricsStore } from '../../src/app/ports/metrics.js';
import { PgMetricsStore } from '../../src/db/metrics-store.js';
import { Metrics } from '../../src/http/metrics.js';
import { BullQueueStats } from '../../src/jobs/queue-stats.js';
import { redisConnection } from '../../src/jobs/queues.js';
import { migratedDatabase, REDIS_URL, type TestDatabase, testPrefix } from '../support/services.js';

/** The real store, with each call counted: how many times a scrape reached Postgres for each figure. */
class CountingStore implements MetricsStore {
  readonly calls = { fillsBySide: 0, alertsByState: 0, gridsByStatus: 0, gridMoney: 0 };
  constructor(private readonly inner: MetricsStore) {}
  fillsBySide() {
    this.calls.fillsBySide++;
    return this.inner.fillsBySide();
  }
  alertsByState() {
    this.calls.alertsByState++;
    return this.inner.alertsByState();
  }
  gridsByStatus() {
    this.calls.gridsByStatus++;
    return this.inner.gridsByStatus();
  }
  gridMoney(figure: 'net' | 'fees') {
    this.calls.gridMoney++;
    return this.inner.gridMoney(figure);
  }
}

/** The value of one sample line of the exposition text, or null when absent. */
function sample(text: string, line: string): number | null {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? null : Number(found.slice(line.length + 1));
}

/**
 * /metrics counts the ever-growing tables (fills, alerts) once per window however often it is scraped, and reads
 * what an operator acts on (grids by status, their P/L) on every scrape.
 */
describe('/metrics figures', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let queue: Queue;
  let store: CountingStore;
  let metrics: Metrics;
  let nowMs = 1_000_000;

  const trade = (n: number, symbol: string, side: 'buy' | 'sell', grid: string) =>
    ds.query(
      `INSERT INTO trade (exec_id, grid_id, client_order_id, symbol, side, purpose, price, quantity, fee, fee_currency,
                          fee_quote, realized_pnl, executed_at)
       VALUES ($1, $2, $3, $4, $5, 'grid', 100, 1, 0.1, 'USDT', 0.1, 0, now())`,
      [`x${n}`, grid, `${grid}-0-${n}`, symbol, side],
    );

  beforeAll(async () => {
    ({ db, ds } = await migratedDatabase());
    for (const [id, symbol, status, realized, fees] of [
      ['g1', 'BTCUSDT', 'running', '12.5', '0.5'],
      ['g2', 'ETHUSDT', 'paused', '0', '0'],
      ['g3', 'SOLUSDT', 'stopped', '0', '0'],
    ] as const) {
      await ds.query(
        `INSERT INTO grid (id, name, symbol, lower, upper, grid_count, mode, investment, maker_fee, taker_fee, status,
                           source, state, quote_balance, realized_pnl, fees)
         VALUES ($1, $1, $2, 1, 2, 2, 'arithmetic', 100, 0.001, 0.001, $3, 'test', '{}', 100, $4, $5)`,
        [id, symbol, status, realized, fees],
      );
    }
    let n = 0;
    for (const [symbol, side, count] of [
      ['BTCUSDT', 'buy', 3],
      ['BTCUSDT', 'sell', 2],
      ['ETHUSDT', 'buy', 1],
    ] as const) {
      for (let i = 0; i < count; i++) await trade(n++, symbol, side, symbol === 'BTCUSDT' ? 'g1' : 'g2');
    }
    await ds.query(
      `INSERT INTO alert (source, external_id, symbol, type, payload, processed)
       VALUES ('tradingview', 'a1', 'BTCUSDT', 'sell', '{}', true), ('tradingview', 'a2', 'BTCUSDT', 'buy', '{}', true),
              ('tradingview', 'a3', 'ETHUSDT', 'sell', '{}', false)`,
    );
    queue = new Queue('alerts', { connection: redisConnection(REDIS_URL), prefix: testPrefix() });
    await queue.add('alerts', { alertIds: ['3'], symbols: ['ETHUSDT'] });
    store = new CountingStore(new PgMetricsStore(ds));
    metrics = new Metrics(
      new MetricsSource({
        store,
        queues: new BullQueueStats({ alerts: queue }),
        killSwitch: { isKilled: async () => false },
        monitor: { latest: async () => null },
        clock: { nowMs: () => nowMs },
      }),
    );
  });
  afterAll(async () => {
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    await ds?.destroy();
    await db?.drop();
  });

  it('the figures are the tables’ own', async () => {
    const { body } = await metrics.text();
    expect(sample(body, 'gridops_fills_total{symbol="BTCUSDT",side="buy"}')).toBe(3);
    expect(sample(body, 'gridops_fills_total{symbol="BTCUSDT",side="sell"}')).toBe(2);
    expect(sample(body, 'gridops_fills_total{symbol="ETHUSDT",side="buy"}')).toBe(1);
    expect(sample(body, 'gridops_alerts{state="processed"}')).toBe(2);
    expect(sample(body, 'gridops_alerts{state="pending"}')).toBe(1);
    for (const [status, n] of [
      ['created', 0],
      ['running', 1],
      ['paused', 1],
      ['stopped', 1],
    ] as const) {
      expect(sample(body, `gridops_grids{status="${status}"}`)).toBe(n);
    }
    expect(sample(body, 'gridops_realized_pnl_quote{grid="g1",symbol="BTCUSDT"}')).toBe(12);
    expect(sample(body, 'gridops_fees_quote{grid="g1",symbol="BTCUSDT"}')).toBe(0.5);
    expect(sample(body, 'gridops_realized_pnl_quote{grid="g2",symbol="ETHUSDT"}')).toBe(0);
    // A stopped grid with nothing to show is left out.
    expect(sample(body, 'gridops_realized_pnl_quote{grid="g3",symbol="SOLUSDT"}')).toBeNull();
    expect(sample(body, 'gridops_queue_jobs{queue="alerts",state="waiting"}')).toBe(1);
    expect(sample(body, 'gridops_kill_switch')).toBe(0);
  });

  it('scrapes within the window count the big tables once, and read the grids every time', async () => {
    nowMs += COUNTS_TTL_MS;
    const before = { ...store.calls };
    // Five at once (sharing the count in flight), then five more one after another, all within the window.
    await Promise.all(Array.from({ length: 5 }, () => metrics.text()));
    for (let i = 0; i < 5; i++) {
      nowMs += Math.floor(COUNTS_TTL_MS / 10);
      await metrics.text();
    }
    expect(store.calls.fillsBySide - before.fillsBySide).toBe(1);
    expect(store.calls.alertsByState - before.alertsByState).toBe(1);
    expect(store.calls.gridsByStatus - before.gridsByStatus).toBe(10);
    expect(store.calls.gridMoney - before.gridMoney).toBe(20);
  });

  it('a new fill shows once the window has passed; a grid’s new status at once', async () => {
    nowMs += COUNTS_TTL_MS;
    await metrics.text();
    await trade(100, 'ETHUSDT', 'sell', 'g2');
    await ds.query(`UPDATE grid SET status = 'running' WHERE id = 'g2'`);
    const within = (await metrics.text()).body;
    expect(sample(within, 'gridops_fills_total{symbol="ETHUSDT",side="sell"}')).toBeNull();
    expect(sample(within, 'gridops_grids{status="running"}')).toBe(2);
    expect(sample(within, 'gridops_grids{status="paused"}')).toBe(0);
    const calls = store.calls.fillsBySide;
    nowMs += COUNTS_TTL_MS;
    const after = (await metrics.text()).body;
    expect(sample(after, 'gridops_fills_total{symbol="ETHUSDT",side="sell"}')).toBe(1);
    expect(store.calls.fillsBySide).toBe(calls + 1);
  });

  it('a count that failed is asked again on the next scrape, not kept', async () => {
    let fail = true;
    const flaky = new Metrics(
      new MetricsSource({
        store: {
          gridsByStatus: () => store.gridsByStatus(),
          gridMoney: (f) => store.gridMoney(f),
          alertsByState: () => store.alertsByState(),
          fillsBySide: () => {
            if (fail) return Promise.reject(new Error('connection lost'));
            return store.fillsBySide();
          },
        },
        queues: new BullQueueStats({ alerts: queue }),
        killSwitch: { isKilled: async () => false },
        monitor: { latest: async () => null },
        clock: { nowMs: () => nowMs },
      }),
    );
    await expect(flaky.text()).rejects.toThrow('connection lost');
    fail = false;
    expect(sample((await flaky.text()).body, 'gridops_fills_total{symbol="BTCUSDT",side="buy"}')).toBe(3);
  });
});
