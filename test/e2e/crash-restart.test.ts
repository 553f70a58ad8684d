import { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/data-source.js';
import { seededRandom } from '../../src/engine/random.js';
import { redisConnection } from '../../src/jobs/queues.js';
import { killStrayBots, startBot } from '../support/bot-process.js';
import { PENDING_SQL, recoverAndCheck } from '../support/recovery.js';
import { createTestDatabase, REDIS_URL, type TestDatabase, testPrefix } from '../support/services.js';

const KILLS = 20;

async function tradeCount(ds: DataSource): Promise<number> {
  return ((await ds.query(`SELECT count(*)::int AS n FROM trade`)) as [{ n: number }])[0].n;
}

/**
 * Paper trading with fills happening, killed with SIGKILL at random moments (seeded, so a failure replays), restarted
 * each time. After each restart, once recovery is done, the books must balance: every execution of the exchange in
 * trade exactly once, no order sent twice, each grid's position the sum of its fills, realized P/L recomputed from
 * the fills (test/support/invariants.ts). Recovery restarts run with the market frozen, so the check sees a quiet
 * system; trading restarts run it again.
 */
describe('crash and restart', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const prefix = testPrefix();
  // Short leases and timeouts, so that a dead process's lease, job locks and placements are taken over quickly.
  const fast = { MARKET_LEASE_MS: '1000', PLACEMENT_TIMEOUT_MS: '400', JOB_LOCK_MS: '1000' };

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await openDatabase(db.url, 2);
  });
  afterAll(async () => {
    await killStrayBots();
    await ds?.destroy();
    await db?.drop();
  });

  it(`loses nothing and doubles nothing across ${KILLS} kills`, async () => {
    const random = seededRandom(20261125);
    const events = new Queue('grid-events', { connection: redisConnection(REDIS_URL), prefix });
    let interrupted = 0;
    try {
      for (let kill = 1; kill <= KILLS; kill++) {
        const bot = startBot({ DATABASE_URL: db.url, QUEUE_PREFIX: prefix, MARKET_TICK_MS: '15', ...fast });
        await bot.waitFor(/this process now runs the market feed/);
        // Trading first (a few fills, however loaded the machine is), then the kill at a random moment.
        const fillsBefore = await tradeCount(ds);
        for (let i = 0; i < 300 && (await tradeCount(ds)) < fillsBefore + 3; i++)
          await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 300 + random() * 2200));
        bot.child.kill('SIGKILL');
        expect(await bot.exited).toBe('SIGKILL');
        // What the kill cut short: fills not yet applied, orders not yet answered, jobs in flight.
        interrupted += Number(((await ds.query(PENDING_SQL)) as [{ pending: string }])[0].pending);
        interrupted += (await events.getJobCounts('active', 'waiting')).active ?? 0;
        expect(await recoverAndCheck(db.url, prefix, fast), `after kill ${kill}`).toEqual([]);
      }
      expect(await events.getFailedCount()).toBe(0);
      const [{ fills }] = (await ds.query(`SELECT count(*)::int AS fills FROM trade`)) as [{ fills: number }];
      expect(fills).toBeGreaterThan(KILLS * 3);
      // The kills did land in the middle of work, so the recoveries had something to recover.
      expect(interrupted).toBeGreaterThan(0);
      console.log(
        `crash test: ${KILLS} kills, ${fills} fills, ${interrupted} pieces of work cut short and recovered`,
      );
    } finally {
      await events.close();
    }
  }, 600_000);
});
