import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killStrayBots, startBot } from '../support/bot-process.js';
import { recoverAndCheck } from '../support/recovery.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

describe('npm start: the bot on a fresh database', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    // A fresh machine has no database at all: the bot must create it.
    await db.drop();
  });
  afterAll(async () => {
    await killStrayBots();
    await db?.drop();
  });

  it('creates its database, trades demo grids on the simulated market, serves health, and stops cleanly on SIGTERM', async () => {
    const prefix = testPrefix();
    const bot = startBot({ DATABASE_URL: db.url, QUEUE_PREFIX: prefix, MARKET_TICK_MS: '100' });
    try {
      await bot.waitFor(/"msg":"HTTP on (http:\/\/[^ ]+) /);
      const base = /"msg":"HTTP on (http:\/\/[^ ]+) /.exec(bot.output())![1]!;
      await bot.waitFor(/demo grid on BTCUSDT \(paper money\)/);
      await bot.waitFor(
        /"category":"fills".*"msg":"[A-Z]+USDT (buy|sell) [0-9.]+ @ [0-9.]+( \|[^"]*)?"/,
        30_000,
      );
      expect(bot.output()).toMatch(/trading on the PAPER exchange: no real money/);
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
      // Open mode (no API_TOKEN): this machine sees each check by name, as a token holder would; never error text.
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ready',
        checks: { postgres: 'ok', redis: 'ok', worker: 'ok', exchange: 'ok' },
        ageMs: expect.any(Number),
      });
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const grids = await client.query(`SELECT name, demo, status FROM grid ORDER BY name`);
      await client.end();
      expect(grids.rows).toEqual([
        { name: 'demo-BTCUSDT', demo: true, status: 'running' },
        { name: 'demo-ETHUSDT', demo: true, status: 'running' },
        { name: 'demo-SOLUSDT', demo: true, status: 'running' },
      ]);
    } finally {
      const started = Date.now();
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
    }
    expect(await recoverAndCheck(db.url, prefix)).toEqual([]);
  });

  it('npm start passes SIGTERM on to the bot, which stops cleanly', async () => {
    const other = await createTestDatabase();
    const npm = startBot(
      { DATABASE_URL: other.url, QUEUE_PREFIX: testPrefix(), MARKET_TICK_MS: '100' },
      [],
      ['npm', 'start'],
    );
    await npm.waitFor(/this process now runs the market feed/);
    npm.child.kill('SIGTERM');
    expect(await npm.exited).toBe(0);
    expect(npm.output()).toMatch(/SIGTERM: finishing in-flight work and shutting down/);
    await other.drop();
  });

  it('runs the grids of a grids file instead of demo grids, and names the field of a bad one', async () => {
    const good = join(tmpdir(), `grids-${process.pid}.json`);
    writeFileSync(
      good,
      JSON.stringify({
        grids: [
          {
            name: 'eth-range',
            symbol: 'ETHUSDT',
            lower: '3400',
            upper: '3900',
            grids: 20,
            investment: '2000',
          },
        ],
      }),
    );
    const other = await createTestDatabase();
    const bot = startBot({
      DATABASE_URL: other.url,
      QUEUE_PREFIX: testPrefix(),
      MARKET_TICK_MS: '100',
      GRIDS_FILE: good,
    });
    try {
      await bot.waitFor(/grid eth-range created from the grids file/);
    } finally {
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
    }
    const client = new pg.Client({ connectionString: other.url });
    await client.connect();
    expect((await client.query(`SELECT name, demo FROM grid`)).rows).toEqual([
      { name: 'eth-range', demo: false },
    ]);
    await client.end();
    await other.drop();

    const bad = join(tmpdir(), `grids-bad-${process.pid}.json`);
    writeFileSync(
      bad,
      JSON.stringify({
        grids: [{ name: 'x', symbol: 'ETHUSDT', lower: 'low', upper: '1', grids: 2, investment: '1' }],
      }),
    );
    const third = await createTestDatabase();
    const failing = startBot({ DATABASE_URL: third.url, QUEUE_PREFIX: testPrefix(), GRIDS_FILE: bad });
    expect(await failing.exited).toBe(1);
    expect(failing.output().trim()).toBe(
      `gridops: ${bad}: grids[0].lower: lower must be a plain positive decimal`,
    );
    await third.drop();
  });
});

describe('npm start: clear errors, no stack traces', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'Postgres unreachable',
      { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/gridops' },
      /^gridops: cannot reach Postgres at 127\.0\.0\.1:1 \(ECONNREFUSED\): start it .* or set DATABASE_URL\n$/,
    ],
    [
      'Redis unreachable',
      { REDIS_URL: 'redis://127.0.0.1:1' },
      /^gridops: cannot reach Redis at 127\.0\.0\.1:1 \(ECONNREFUSED\): start it .* or set REDIS_URL\n$/,
    ],
    [
      'a bad trading mode',
      { TRADING_MODE: 'yolo' },
      /^gridops: invalid configuration: TRADING_MODE must be paper, dry-run, testnet, demo or live\n$/,
    ],
    ['a bad port', { HTTP_PORT: 'eighty' }, /^gridops: invalid configuration: HTTP_PORT .*\n$/],
    // Protects: a TradingView passphrase implies a proxy publishing the server; without a token it would be open.
    [
      'TV_PASSPHRASE is set without API_TOKEN',
      { TV_PASSPHRASE: 'a-passphrase-of-some-length' },
      /^gridops: invalid configuration: API_TOKEN is required with TV_PASSPHRASE \(TradingView reaches it from outside\): set API_TOKEN \(openssl rand -hex 24\)\n$/,
    ],
  ];
  for (const [what, env, message] of cases) {
    it(`exits 1 with one line when ${what}`, async () => {
      const bot = startBot({ QUEUE_PREFIX: testPrefix(), ...env });
      expect(await bot.exited).toBe(1);
      expect(bot.output()).toMatch(message);
    });
  }
});

describe('roles: processes side by side on one Redis and one Postgres', () => {
  it('two workers trade, the api serves, the bot role says it, and the books balance', async () => {
    const db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, QUEUE_PREFIX: testPrefix(), MARKET_TICK_MS: '100' };
    const workers = [startBot(env, ['--role', 'worker']), startBot(env, ['--role', 'worker'])];
    const api = startBot(env, ['--role', 'api']);
    const bot = startBot(env, ['--role', 'bot']);
    try {
      await api.waitFor(/"msg":"HTTP on (http:\/\/[^ ]+) /);
      const base = /"msg":"HTTP on (http:\/\/[^ ]+) /.exec(api.output())![1]!;
      await bot.waitFor(/"category":"fills".*"msg":"[A-Z]+USDT (buy|sell) /, 30_000);
      // Exactly one of the workers runs the market feed.
      const feeds = workers.filter((w) => /this process now runs the market feed/.test(w.output()));
      expect(feeds).toHaveLength(1);
      for (const w of workers) expect(w.output()).not.toMatch(/"category":"fills"/);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      for (const p of [...workers, api, bot]) p.child.kill('SIGTERM');
      for (const p of [...workers, api, bot]) expect(await p.exited).toBe(0);
    }
    expect(await recoverAndCheck(db.url, env.QUEUE_PREFIX)).toEqual([]);
    await db.drop();
  });
});
