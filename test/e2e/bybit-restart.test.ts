import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/data-source.js';
import type { FakeBybit } from '../fakes/bybit/server.js';
import { killStrayBots, startBot } from '../support/bot-process.js';
import { startBtcFake, testnetEnv } from '../support/bybit.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const KEY = 'restart-key';
const SECRET = 'restart-secret';

/** The bot is killed mid-run; the fake Bybit fills its orders while it is down; the restarted bot catches up. */
describe('restart against Bybit', () => {
  let fake: FakeBybit;
  let db: TestDatabase;
  let ds: DataSource;
  const prefix = testPrefix();
  const grids = join(tmpdir(), `bybit-restart-grids-${process.pid}.json`);

  beforeAll(async () => {
    fake = await startBtcFake(KEY, SECRET, { balances: { USDT: '100000' } });
    writeFileSync(
      grids,
      JSON.stringify({
        grids: [
          { name: 'btc', symbol: 'BTCUSDT', lower: '95000', upper: '105000', grids: 20, investment: '20000' },
        ],
      }),
    );
    db = await createTestDatabase();
    ds = await openDatabase(db.url, 2);
  });
  afterAll(async () => {
    await killStrayBots();
    await ds?.destroy();
    await db?.drop();
    await fake?.close();
  });

  const env = () => ({
    DATABASE_URL: db.url,
    QUEUE_PREFIX: prefix,
    ...testnetEnv(fake, KEY, SECRET),
    GRIDS_FILE: grids,
    MARKET_LEASE_MS: '1000',
    PLACEMENT_TIMEOUT_MS: '500',
    JOB_LOCK_MS: '1000',
  });

  async function caughtUp(): Promise<void> {
    for (let i = 0; i < 300; i++) {
      const [{ n }] = (await ds.query(`SELECT count(*)::int AS n FROM trade`)) as [{ n: number }];
      const [{ pending }] = (await ds.query(
        `SELECT count(*)::int AS pending FROM grid_order WHERE status IN ('intent', 'placing')`,
      )) as [{ pending: number }];
      if (n === fake.executions().length && pending === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the bot did not catch up with the exchange');
  }

  it('applies the fills made while it was down, then places their counter orders', async () => {
    const first = startBot(env());
    await first.waitFor(/grid btc created from the grids file \(test money on 127\.0\.0\.1\)/);
    // The start-up listing comes after the grids file's grids are made, and lists them with the money at stake.
    await first.waitFor(/test money on 127\.0\.0\.1: 1 grid trading, 20000 USDT at stake/);
    await first.waitFor(
      /test money on 127\.0\.0\.1: grid g1 btc BTCUSDT running, 20 lines 95000-105000, 20000 USDT invested/,
    );
    await caughtUp();
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    // While nobody listens: the price falls through three buy lines, and the account's orders fill.
    fake.setPrice('BTCUSDT', '98400');
    const filledWhileDown = fake.executions().length;
    const second = startBot(env());
    try {
      await second.waitFor(/this process now runs the market feed/);
      await caughtUp();
      const trades = (await ds.query(`SELECT count(*)::int AS n FROM trade`)) as [{ n: number }];
      expect(trades[0].n).toBe(fake.executions().length);
      expect(fake.executions().length).toBeGreaterThanOrEqual(filledWhileDown);
      // Lines every 500 from 95000; the buys at 99500, 99000 and 98500 filled while the bot was down, and each of
      // their cells now sells one line up: at 100000, 99500 and 99000.
      const sells = fake
        .orders()
        .filter((o) => o.orderStatus === 'New' && o.side === 'Sell')
        .map((o) => Number(o.price))
        .sort((a, b) => a - b);
      expect(sells.slice(0, 3)).toEqual([99000, 99500, 100000]);
      const [grid] = (await ds.query(`SELECT base_qty FROM grid`)) as { base_qty: string }[];
      expect(new Decimal(grid!.base_qty).eq(fake.balances().BTC!.walletBalance)).toBe(true);
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });
});

describe('high availability', () => {
  it('exactly one of two workers holds the exchange streams; when it dies the other takes over within 15 s', async () => {
    const fake = await startBtcFake(KEY, SECRET, { balances: { USDT: '100000' } });
    const db = await createTestDatabase();
    const env = {
      DATABASE_URL: db.url,
      QUEUE_PREFIX: testPrefix(),
      ...testnetEnv(fake, KEY, SECRET),
      // The default lease (10 s): this test measures the real takeover time.
    };
    const a = startBot(env, ['--role', 'worker']);
    const b = startBot(env, ['--role', 'worker']);
    try {
      await Promise.race([a.waitFor(/now runs the market feed/), b.waitFor(/now runs the market feed/)]);
      await new Promise((r) => setTimeout(r, 1000));
      const holders = [a, b].filter((p) => /now runs the market feed/.test(p.output()));
      expect(holders).toHaveLength(1);
      expect(fake.ws.connections().private).toBe(1);
      const [leader, follower] = holders[0] === a ? [a, b] : [b, a];
      leader.child.kill('SIGKILL');
      const died = Date.now();
      await follower.waitFor(/now runs the market feed/, 20_000);
      const takeoverMs = Date.now() - died;
      expect(takeoverMs).toBeLessThan(15_000);
      console.log(`HA: the follower took the exchange streams ${takeoverMs} ms after the leader died`);
      for (let i = 0; i < 50 && fake.ws.connections().private !== 1; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(fake.ws.connections().private).toBe(1);
    } finally {
      for (const p of [a, b]) p.child.kill('SIGTERM');
      await Promise.all([a.exited, b.exited]);
      await db.drop();
      await fake.close();
    }
  }, 60_000);
});

describe('starting against Bybit', () => {
  it('stops with one line when the key is wrong or the clock is off, and runs dry-run on Bybit prices with paper fills', async () => {
    const fake = await startBtcFake(KEY, SECRET, { balances: { USDT: '100000' } });
    const db = await createTestDatabase();
    const base = {
      DATABASE_URL: db.url,
      QUEUE_PREFIX: testPrefix(),
      BYBIT_REST_URL: fake.url,
      BYBIT_WS_PUBLIC_URL: fake.wsPublicUrl,
      BYBIT_WS_PRIVATE_URL: fake.wsPrivateUrl,
      MARKET_SYMBOLS: 'BTCUSDT',
    };
    try {
      const wrong = startBot({
        ...base,
        ...testnetEnv(fake, KEY, SECRET),
        BYBIT_API_SECRET: 'not-it',
      });
      expect(await wrong.exited).toBe(1);
      expect(wrong.output()).toBe('gridops: Bybit rejected the request signature: check BYBIT_API_SECRET\n');
      expect(wrong.output()).not.toContain('not-it');
      // dry-run: Bybit's prices, the paper exchange's fills, no key needed; the demo grid starts at Bybit's price.
      const dry = startBot({ ...base, TRADING_MODE: 'dry-run' });
      try {
        await dry.waitFor(/trading on the PAPER exchange at live prices from 127\.0\.0\.1/);
        await dry.waitFor(/BTCUSDT buy [0-9.]+ @ 100000 \(start\)/);
        fake.setPrice('BTCUSDT', '99000');
        await dry.waitFor(/"category":"fills".*BTCUSDT buy [0-9.]+ @ 99[0-9]{3}(\.[0-9]+)?( \|[^"]*)?"/);
        // Nothing reached the exchange's book: the fills were paper fills.
        expect(fake.orders()).toEqual([]);
      } finally {
        dry.child.kill('SIGTERM');
        expect(await dry.exited).toBe(0);
      }
    } finally {
      await db.drop();
      await fake.close();
    }
  }, 60_000);
});
