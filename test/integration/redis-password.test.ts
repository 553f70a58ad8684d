import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failedJobs, movePrice, startTestApp, type TestApp } from '../support/app.js';
import { killStrayBots, startBot } from '../support/bot-process.js';
import { createTestDatabase, REDIS_URL, type TestDatabase, testPrefix } from '../support/services.js';
import { until } from '../support/wait.js';

/**
 * Docker compose runs Redis with --requirepass and gives the app REDIS_URL=redis://:PASSWORD@redis:6379. Protects:
 * every Redis client the app makes (BullMQ's queues and workers, the shared client behind the price cache, the
 * start-up probe) logs in with the URL's password and uses its database number, and a wrong or missing password
 * stops `npm start` with one line that says so (it used to say "cannot reach Redis ... start it").
 * A Redis of its own is started for this file, on a free loopback port, and stopped at the end.
 */
const DB = 3;
// Characters that must be percent-encoded in the URL, to prove the password is decoded before it is sent.
const PASSWORD = `p@ss/${randomBytes(12).toString('hex')}`;

let redis: ChildProcess;
let redisDir: string;
let port: number;
let url: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A client that logs in as the test does, outside the app. */
function admin(db: number): Redis {
  return new Redis({ host: '127.0.0.1', port, password: PASSWORD, db, maxRetriesPerRequest: 1 });
}

beforeAll(async () => {
  port = await freePort();
  url = `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/${DB}`;
  redisDir = mkdtempSync(join(tmpdir(), 'gridops-redis-'));
  redis = spawn(
    'redis-server',
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--requirepass', PASSWORD],
      ...['--save', '', '--appendonly', 'no', '--dir', redisDir, '--logfile', ''],
    ],
    { stdio: 'ignore' },
  );
  // Should a hook time out before afterAll stops it, it still goes with this test process.
  process.once('exit', () => redis.kill('SIGKILL'));
  await until(async () => {
    const probe = new Redis({
      port,
      password: PASSWORD,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG' ? true : undefined;
    } catch {
      return undefined;
    } finally {
      probe.disconnect();
    }
  }, `redis-server --requirepass on port ${port}`);
});

afterAll(async () => {
  await killStrayBots();
  if (redis && redis.exitCode === null) {
    const gone = new Promise((r) => redis.once('exit', r));
    redis.kill('SIGTERM');
    await gone;
  }
  if (redisDir) rmSync(redisDir, { recursive: true, force: true });
});

describe('Redis with a password', () => {
  let db: TestDatabase;
  let app: TestApp | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('carries the queues, the workers and the price cache, in the database the URL names', async () => {
    const prefix = testPrefix();
    app = await startTestApp({ databaseUrl: db.url, prefix, env: { REDIS_URL: url } });
    // A price job goes through the prices queue, a BullMQ worker applies it, and the price cache keeps it.
    await movePrice(app.rt, 'BTCUSDT', '100000');
    expect((await app.rt.prices.get('BTCUSDT'))?.price).toBe('100000');
    expect(await failedJobs(app.rt)).toEqual([]);

    const inDb = admin(DB);
    const inDb0 = admin(0);
    const usual = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const keys = await inDb.keys(`${prefix}*`);
      // The queues' keys (prefix:prices:...) and the price cache's both land in database 3 of this Redis.
      expect(keys.some((k) => k.startsWith(`${prefix}:prices:`))).toBe(true);
      expect(keys.length).toBeGreaterThan(1);
      expect(await inDb0.keys(`${prefix}*`)).toEqual([]);
      expect(await usual.keys(`${prefix}*`)).toEqual([]);
    } finally {
      inDb.disconnect();
      inDb0.disconnect();
      usual.disconnect();
    }
  });

  it('lets `npm start` through with the right password', async () => {
    const bot = startBot(
      {
        DATABASE_URL: db.url,
        REDIS_URL: url,
        QUEUE_PREFIX: testPrefix(),
        DEMO_GRIDS: 'false',
      },
      ['--role', 'worker'],
    );
    // Past the probe, with the workers up and the feed's lease taken in Redis (signals are handled by then).
    await bot.waitFor(/this process now runs the market feed/);
    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    expect(bot.output()).not.toContain(PASSWORD);
  });

  it.each([
    [
      'a wrong password',
      () => `redis://:wrong-${randomBytes(6).toString('hex')}@127.0.0.1:${port}`,
      () =>
        `gridops: cannot start: Redis at 127.0.0.1:${port} refused the login (WRONGPASS invalid username-password ` +
        'pair or user is disabled): check the user and password in REDIS_URL\n',
    ],
    [
      'no password',
      () => `redis://127.0.0.1:${port}`,
      () =>
        `gridops: cannot start: Redis at 127.0.0.1:${port} asks for a password (NOAUTH Authentication required): ` +
        'put it in REDIS_URL as redis://:PASSWORD@host:port\n',
    ],
  ])('stops `npm start` with one line on %s', async (_, redisUrl, line) => {
    const bot = startBot({ DATABASE_URL: db.url, REDIS_URL: redisUrl(), MARKET_DATA: 'none' }, [
      '--role',
      'worker',
    ]);
    expect(await bot.exited).toBe(1);
    expect(bot.output()).toBe(line());
  });
});
