import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/data-source.js';
import { buildDailyReport } from '../../src/jobs/reports.js';
import type { FakeBybit } from '../fakes/bybit/server.js';
import { type BotProcess, killStrayBots, startBot } from '../support/bot-process.js';
import { startBtcFake, testnetEnv } from '../support/bybit.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const KEY = 'start-key';
const SECRET = 'start-secret';
const TOKEN = 'bybit-tests-operator-token-0123456789';

/** Polls the app's REST API (its address is in the log) until `done` says the answer is the one awaited. */
async function untilApi<T>(bot: BotProcess, path: string, done: (body: T) => boolean): Promise<T> {
  await bot.waitFor(/HTTP on http:\/\/127\.0\.0\.1:\d+/);
  const url = /HTTP on (http:\/\/127\.0\.0\.1:\d+)/.exec(bot.output())![1]!;
  for (let i = 0; i < 200; i++) {
    const r = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await r.json()) as T;
    if (r.ok && done(body)) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${path} never answered as awaited`);
}

/**
 * What a start against Bybit does before anything trades (issue 13): no demo grid with real or test money, and the
 * API key checked. Protects against the first live start that bought three 1,000 USDT demo grids at market, and
 * against a key that cannot trade or can withdraw trading at all.
 */
describe('starting against (fake) Bybit', () => {
  let fake: FakeBybit;
  let db: TestDatabase;
  let ds: DataSource;
  beforeAll(async () => {
    fake = await startBtcFake(KEY, SECRET, { balances: { USDT: '100000' } });
    db = await createTestDatabase();
    ds = await openDatabase(db.url, 2);
  });
  afterAll(async () => {
    await killStrayBots();
    await ds?.destroy();
    await db?.drop();
    await fake?.close();
  });

  const env = (over: Record<string, string> = {}) => ({
    DATABASE_URL: db.url,
    QUEUE_PREFIX: testPrefix(),
    ...testnetEnv(fake, KEY, SECRET),
    ...over,
  });

  it('live with an empty database and DEMO_GRIDS at its default: no demo grid, no order', async () => {
    const live = await createTestDatabase();
    const bot = startBot({
      ...env({ DATABASE_URL: live.url }),
      TRADING_MODE: 'live',
      LIVE_TRADING_CONFIRM: 'yes',
    });
    try {
      await bot.waitFor(/trading on 127\.0\.0\.1 with REAL MONEY/, 60_000);
      await bot.waitFor(/DEMO_GRIDS is ignored in live mode: demo grids are paper only/);
      await bot.waitFor(/REAL MONEY on 127\.0\.0\.1: no grid is trading/);
      // Prices flow (the demo grids of old started as soon as every symbol had one)...
      await untilApi<{ prices: { symbol: string }[] }>(bot, '/api/prices', (b) =>
        b.prices.some((p) => p.symbol === 'BTCUSDT'),
      );
      // ...and a few seconds later there is still no grid and no order.
      for (let i = 0; i < 30; i++) {
        expect(fake.orders()).toEqual([]);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await untilApi<{ grids: unknown[] }>(bot, '/api/grids', () => true)).toEqual({ grids: [] });
      expect(bot.output()).not.toMatch(/demo grid on/);
    } finally {
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
      await live.drop();
    }
  }, 120_000);

  it('refuses a read-only key, and a key that can withdraw, with one line each', async () => {
    fake.apiKeyInfo.readOnly = 1;
    const readOnly = startBot(env());
    expect(await readOnly.exited).toBe(1);
    expect(readOnly.output()).toBe(
      'gridops: the Bybit API key for 127.0.0.1 is read-only: create a key with Spot trade permission (SpotTrade) and no Wallet permissions\n',
    );
    fake.apiKeyInfo.readOnly = 0;
    fake.apiKeyInfo.permissions = { Spot: ['SpotTrade'], Wallet: ['AccountTransfer', 'Withdraw'] };
    const withdraw = startBot(env());
    expect(await withdraw.exited).toBe(1);
    expect(withdraw.output()).toBe(
      "gridops: the Bybit API key for 127.0.0.1 can withdraw funds: create a key without the Withdraw permission, bound to this server's IP\n",
    );
    expect(fake.orders()).toEqual([]);
  }, 120_000);

  it('starts with a key bound to no IP and expiring soon, and says so at start and in the daily report', async () => {
    Object.assign(fake.apiKeyInfo, {
      readOnly: 0,
      permissions: { Spot: ['SpotTrade'], ContractTrade: ['Order'] },
      ips: ['*'],
      deadlineDay: 9,
    });
    const bot = startBot(env());
    try {
      await bot.waitFor(/bound to no IP address/, 60_000);
      await bot.waitFor(/test money on 127\.0\.0\.1: no grid is trading/);
      const warnings = bot
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; msg: string })
        .filter((l) => l.level === 40 && l.msg.startsWith('the Bybit API key'))
        .map((l) => l.msg);
      const expected = [
        'the Bybit API key for 127.0.0.1 has permissions a spot grid does not need (ContractTrade: Order): create one with Spot trade (SpotTrade) only',
        "the Bybit API key for 127.0.0.1 is bound to no IP address (anyone who holds it can use it, and it expires): create one bound to this server's IP",
        "the Bybit API key for 127.0.0.1 expires in 9 days: every call fails after that; create a new one bound to this server's IP (such keys do not expire)",
      ];
      expect(warnings).toEqual(expected);
      const report = await buildDailyReport(ds, new Date().toISOString().slice(0, 10));
      expect(report.lines.filter((l) => l.startsWith('warning: '))).toEqual(
        expected.map((w) => `warning: ${w}`),
      );
    } finally {
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
    }
  }, 120_000);

  it('demo trading: a key that cannot be checked there is a warning, not a refusal', async () => {
    Object.assign(fake.apiKeyInfo, {
      permissions: { Spot: ['SpotTrade'] },
      ips: ['127.0.0.1'],
      deadlineDay: undefined,
    });
    fake.apiKeyInfo.unsupported = true;
    const bot = startBot(env({ TRADING_MODE: 'demo' }));
    try {
      await bot.waitFor(
        /the Bybit API key for 127\.0\.0\.1 could not be checked .*demo trading may not serve/,
        60_000,
      );
      await bot.waitFor(/test money on 127\.0\.0\.1: no grid is trading/);
    } finally {
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
      fake.apiKeyInfo.unsupported = false;
    }
  }, 120_000);
});
