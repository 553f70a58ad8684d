import { Decimal } from 'decimal.js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reports } from '../../src/app/reports.js';
import { SymbolSuggestions } from '../../src/app/symbols.js';
import { PgAlertStore } from '../../src/db/alert-store.js';
import { PgApiKeyChecks } from '../../src/db/api-key-store.js';
import { RedisConfirmations } from '../../src/db/confirmation-store.js';
import { PgReportStore } from '../../src/db/report-store.js';
import { movePrice, settle, startBtcGrid, startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, REDIS_URL, type TestDatabase, testPrefix } from '../support/services.js';

/** The reports every surface shows (chat, REST, CLI, the report jobs), read once by the app. */
describe('reports (paper)', () => {
  let db: TestDatabase;
  let app: TestApp;
  let reports: Reports;
  let gridId: string;
  const today = () => new Date().toISOString().slice(0, 10);

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp({ databaseUrl: db.url, prefix: testPrefix() });
    gridId = await startBtcGrid(app.rt);
    // Down through two buys, back up through their sells (in two steps: a move over 5 % waits for confirmation).
    await movePrice(app.rt, 'BTCUSDT', '95500');
    await movePrice(app.rt, 'BTCUSDT', '98000');
    await movePrice(app.rt, 'BTCUSDT', '100500');
    await settle(app.rt);
    const { ds } = app.rt;
    reports = new Reports({
      store: new PgReportStore(ds),
      keyChecks: new PgApiKeyChecks(ds),
      pnl: app.rt.views,
      alerts: new PgAlertStore(ds),
    });
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it("the daily report: each grid's fills, realized less fees and running total, exact sums of its trades", async () => {
    const [t] = (await app.rt.ds.query(
      `SELECT count(*)::int AS n, sum(realized_pnl)::text AS realized, sum(fee_quote)::text AS fees FROM trade`,
    )) as [{ n: number; realized: string; fees: string }];
    expect(t.n).toBeGreaterThanOrEqual(5);
    const net = new Decimal(t.realized).minus(t.fees);
    const daily = await reports.periodReport(today());
    expect(daily).toMatchObject({
      category: 'report',
      severity: 'info',
      key: `daily-${today()}`,
      chart: 'profit-per-grid',
      title: `Daily report ${today()} (UTC): net ${net.toFixed()}`,
    });
    expect(daily.lines).toEqual([
      `${gridId} BTCUSDT (running): ${t.n} fills, day ${new Decimal(t.realized).toFixed()} − fees ${new Decimal(t.fees).toFixed()} = ${net.toFixed()}; total realized ${new Decimal(t.realized).toFixed()}`,
    ]);
    const weekly = await reports.periodReport(today(), 7);
    expect(weekly.key).toBe(`weekly-${today()}`);
    expect(weekly.title).toBe(`Weekly report to ${today()} (UTC, 7 days): net ${net.toFixed()}`);
    expect(weekly.lines[0]).toContain(`${t.n} fills, 7 days `);
    // A day without fills still lists the grid, with its total.
    const before = await reports.periodReport('2020-01-01');
    expect(before.title).toBe('Daily report 2020-01-01 (UTC): net 0');
    expect(before.lines[0]).toBe(
      `${gridId} BTCUSDT (running): 0 fills, day 0 − fees 0 = 0; total realized ${new Decimal(t.realized).toFixed()}`,
    );
  });

  it('profit per grid: each grid since it began, realized less fees and unrealized', async () => {
    const chart = await reports.profitPerGrid();
    const all = await reports.pnl('all');
    expect(chart).toEqual({
      day: today(),
      grids: [
        {
          label: `${gridId} BTCUSDT`,
          realized: Number(all.grids[0]!.totalNet),
          unrealized: Number(all.grids[0]!.unrealized ?? '0'),
        },
      ],
    });
  });

  it("symbol suggestions: the market's and the grids', holding what was typed", async () => {
    const symbols = new SymbolSuggestions({
      market: ['ETHUSDT', 'SOLUSDT'],
      store: new PgReportStore(app.rt.ds),
    });
    expect(await symbols.suggest('')).toEqual(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']);
    expect(await symbols.suggest('usdt', 2)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(await symbols.suggest('eth')).toEqual(['ETHUSDT']);
  });
});

describe('chat confirmations in Redis', () => {
  const redis = new Redis(REDIS_URL);
  const store = new RedisConfirmations(redis, testPrefix());
  const pending = { transport: 'telegram', userId: '7', command: 'stop', args: ['all'] };
  afterAll(async () => {
    await redis.quit();
  });

  it('keeps what was asked under an id its buttons carry, taken exactly once', async () => {
    const id = await store.remember(pending, 5_000);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(await store.peek(id)).toEqual(pending);
    const takers = await Promise.all(Array.from({ length: 5 }, () => store.take(id)));
    expect(takers.filter(Boolean)).toHaveLength(1);
    expect(await store.peek(id)).toBeNull();
    expect(await store.take(id)).toBe(false);
  });

  it('forgets it when the prompt expires', async () => {
    const id = await store.remember(pending, 50);
    await new Promise((r) => setTimeout(r, 120));
    expect(await store.peek(id)).toBeNull();
    expect(await store.take(id)).toBe(false);
  });
});
