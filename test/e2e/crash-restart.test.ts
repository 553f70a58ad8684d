import { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/data-source.js';
import { redisConnection } from '../../src/jobs/queues.js';
import { seededRandom } from '../../src/market/simulated-market.js';
import { startBot } from '../support/bot-process.js';
import { checkInvariants } from '../support/invariants.js';
import { createTestDatabase, REDIS_URL, type TestDatabase, testPrefix } from '../support/services.js';

const KILLS = 20;
const PENDING_SQL = `
  SELECT (SELECT count(*) FROM paper_execution e WHERE NOT EXISTS (SELECT 1 FROM trade t WHERE t.exec_id = e.exec_id))
       + (SELECT count(*) FROM grid_order WHERE status IN ('intent', 'placing') OR (status = 'placed' AND cancel_requested))
       AS pending`;
const OPENING = '1000000';

/**
 * Paper trading with fills happening, killed with SIGKILL at random moments (seeded, so a failure replays), restarted
 * each time. After each restart, once recovery is done, the books must balance: every execution of the exchange in
 * trade exactly once, no order sent twice, each grid's position the sum of its fills, realized P/L recomputed from
 * the fills. Recovery restarts run with the market frozen (MARKET_DATA=none), so the check sees a quiet system.
 */
describe('crash and restart', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const prefix = testPrefix();
  const common = (extra: Record<string, string>) => ({
    DATABASE_URL: db.url,
    QUEUE_PREFIX: prefix,
    MARKET_LEASE_MS: '1000',
    PLACEMENT_TIMEOUT_MS: '400',
    JOB_LOCK_MS: '1000',
    ...extra,
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await openDatabase(db.url, 2);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  async function waitUntilRecovered(queue: Queue): Promise<void> {
    const deadline = Date.now() + 30_000;
    let quiet = 0;
    let last = '';
    while (Date.now() < deadline) {
      const [row] = (await ds.query(PENDING_SQL)) as [{ pending: string }];
      const jobs = Object.values(await queue.getJobCounts('waiting', 'active', 'delayed')).reduce(
        (a, b) => a + b,
        0,
      );
      quiet = Number(row.pending) === 0 && jobs === 0 ? quiet + 1 : 0;
      last = `${row.pending} orders or executions pending, ${JSON.stringify(await queue.getJobCounts())} jobs`;
      if (quiet >= 3) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`recovery did not finish within 30 s: ${last}`);
  }

  it(`loses nothing and doubles nothing across ${KILLS} kills`, async () => {
    const random = seededRandom(20261125);
    const events = new Queue('grid-events', { connection: redisConnection(REDIS_URL), prefix });
    let interrupted = 0;
    try {
      for (let kill = 1; kill <= KILLS; kill++) {
        const bot = startBot(common({ MARKET_TICK_MS: '40', RECONCILE_EVERY_MS: '1000' }));
        await bot.waitFor(/this process now runs the market feed/);
        await new Promise((r) => setTimeout(r, 300 + random() * 2200));
        bot.child.kill('SIGKILL');
        expect(await bot.exited).toBe('SIGKILL');
        // What the kill cut short: fills not yet applied, orders not yet answered, jobs in flight.
        interrupted += Number(((await ds.query(PENDING_SQL)) as [{ pending: string }])[0].pending);
        interrupted += (await events.getJobCounts('active', 'waiting')).active ?? 0;

        const recovery = startBot(common({ MARKET_DATA: 'none', RECONCILE_EVERY_MS: '200' }));
        await recovery.waitFor(/trading on the PAPER exchange/);
        await waitUntilRecovered(events);
        expect(await checkInvariants(ds, OPENING), `after kill ${kill}`).toEqual([]);
        recovery.child.kill('SIGTERM');
        expect(await recovery.exited).toBe(0);
      }
      expect(await events.getFailedCount()).toBe(0);
      const [{ fills }] = (await ds.query(`SELECT count(*)::int AS fills FROM trade`)) as [{ fills: number }];
      expect(fills).toBeGreaterThan(KILLS * 3);
      // The kills did land in the middle of work, so the recoveries above had something to recover.
      expect(interrupted).toBeGreaterThan(0);
      console.log(
        `crash test: ${KILLS} kills, ${fills} fills, ${interrupted} pieces of work cut short and recovered`,
      );
    } finally {
      await events.close();
    }
  }, 600_000);
});
