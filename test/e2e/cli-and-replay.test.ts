import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killStrayBots, startBot } from '../support/bot-process.js';
import { SHARED_DATA } from '../support/candles.js';
import { recoverAndCheck } from '../support/recovery.js';
import { createTestDatabase, REDIS_URL, type TestDatabase, testPrefix } from '../support/services.js';

const run = promisify(execFile);

describe('the grid CLI against a running bot', () => {
  let db: TestDatabase;
  const prefix = testPrefix();
  let bot: ReturnType<typeof startBot>;
  const env = () => ({ ...process.env, DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix });
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run('npm', ['run', '--silent', 'cli', '--', ...args], { env: env() });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const f = e as { code: number; stdout: string; stderr: string };
      return { code: f.code, stdout: f.stdout, stderr: f.stderr };
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    bot = startBot({
      DATABASE_URL: db.url,
      QUEUE_PREFIX: prefix,
      MARKET_TICK_MS: '100',
      DEMO_GRIDS: 'false',
    });
    await bot.waitFor(/this process now runs the market feed/);
  });
  afterAll(async () => {
    await killStrayBots();
    await db?.drop();
  });

  it('creates, lists, pauses, resumes and stops a grid, and explains what it refuses', async () => {
    expect((await cli('grid', 'list')).stdout).toBe('no grids\n');
    // The simulated ETH market starts at 3650.
    const created = await cli(
      'grid',
      'create',
      'ETHUSDT',
      '3500',
      '3800',
      '20',
      '2000',
      '--name',
      'eth-cli',
      '--stop-loss',
      '3300',
    );
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(
      /^g1 +eth-cli\n +ETHUSDT running, 20 arithmetic grids 3500-3800, investment 2000/,
    );
    const paused = await cli('grid', 'pause', 'eth-cli');
    expect(paused.stdout).toMatch(/ETHUSDT paused/);
    expect((await cli('grid', 'pause', 'eth-cli')).stderr).toBe(
      'gridops: grid g1 is paused; cannot pause it\n',
    );
    expect((await cli('grid', 'resume', 'ETHUSDT')).stdout).toMatch(/ETHUSDT running/);
    const refused = await cli('grid', 'create', 'ETHUSDT', '3800', '3500', '20', '2000');
    expect(refused).toMatchObject({ code: 2, stderr: 'gridops: lower 3800 must be below upper 3500\n' });
    expect((await cli('grid', 'create', 'XYZUSDT', '1', '2', '2', '10')).stderr).toBe(
      'gridops: unknown symbol XYZUSDT\n',
    );
    expect((await cli('grid', 'show', 'g9')).stderr).toBe('gridops: no grid g9\n');
    expect((await cli('grid', 'stop', 'g1')).stdout).toMatch(/ETHUSDT stopped \(manual\)/);
    expect((await cli('bogus')).code).toBe(2);
    // Protects: the operator's way to resend deliveries that gave up, audited (the queue board is read-only).
    expect(await cli('deliveries', 'retry')).toMatchObject({
      code: 0,
      stdout: '0 failed deliveries sent again\n',
    });
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    const audited = await sql.query(
      `SELECT via, outcome, detail FROM audit_log WHERE action = 'retry-deliveries'`,
    );
    await sql.end();
    expect(audited.rows).toEqual([{ via: 'cli', outcome: 'ok', detail: { retried: 0 } }]);
    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    expect(await recoverAndCheck(db.url, prefix)).toEqual([]);
  });
});

describe('MARKET_DATA=replay:FILE', () => {
  it('replays a candle file as live prices: the demo grid starts at the prices of the file and trades', async () => {
    const db = await createTestDatabase();
    const prefix = testPrefix();
    const bot = startBot({
      DATABASE_URL: db.url,
      QUEUE_PREFIX: prefix,
      MARKET_DATA: `replay:${SHARED_DATA}BTCUSDT-1m-2025-06.csv.gz`,
      MARKET_TICK_MS: '20',
    });
    try {
      await bot.waitFor(/"symbols":\["BTCUSDT"\]/);
      // The file opens at 104591.88 and its first 200 minutes stay between 103,924 and 104,648: the grid starts there
      // (a simulated market would start BTC at 97,250).
      await bot.waitFor(/BTCUSDT buy [0-9.]+ @ 10[34][0-9]{3}(\.[0-9]+)? \(start\)/);
      await bot.waitFor(/"category":"fills".*BTCUSDT (buy|sell) [0-9.]+ @ [0-9.]+( \|[^"]*)?"/, 30_000);
    } finally {
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
    }
    expect(await recoverAndCheck(db.url, prefix)).toEqual([]);
    await db.drop();
  });
});
