import { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { openDatabase } from '../../src/db/data-source.js';
import { redisConnection } from '../../src/jobs/queues.js';
import { startBot } from './bot-process.js';
import { checkInvariants } from './invariants.js';
import { REDIS_URL } from './services.js';

/** Work the app still owes: executions not yet applied, orders not yet answered, cancels not yet done. */
export const PENDING_SQL = `
  SELECT (SELECT count(*) FROM paper_execution e WHERE NOT EXISTS (SELECT 1 FROM trade t WHERE t.exec_id = e.exec_id))
       + (SELECT count(*) FROM grid_order WHERE status IN ('intent', 'placing') OR (status = 'placed' AND cancel_requested))
       AS pending`;

/** Waits until the app owes nothing and its grid-events queue is empty. */
export async function waitUntilQuiet(ds: DataSource, prefix: string, timeoutMs = 30_000): Promise<void> {
  // Price jobs too: one left by a killed process still moves the paper market (a fill) when a worker takes it, and a
  // recovery stopped before that would leave a fill unapplied for the next start, which the check would call lost.
  const queues = ['grid-events', 'prices'].map(
    (name) => new Queue(name, { connection: redisConnection(REDIS_URL), prefix }),
  );
  try {
    const deadline = Date.now() + timeoutMs;
    let quiet = 0;
    let last = '';
    while (Date.now() < deadline) {
      const [row] = (await ds.query(PENDING_SQL)) as [{ pending: string }];
      const all = await Promise.all(
        queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')),
      );
      const counts = Object.fromEntries(all.map((c, i) => [queues[i]!.name, c]));
      const jobs = all.reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0);
      quiet = Number(row.pending) === 0 && jobs === 0 ? quiet + 1 : 0;
      last = `${row.pending} pending in Postgres, jobs ${JSON.stringify(counts)}`;
      if (quiet >= 3) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the app did not finish its work within ${timeoutMs} ms: ${last}`);
  } finally {
    await Promise.all(queues.map((q) => q.close()));
  }
}

/**
 * Starts one worker with the market frozen (no new prices), lets it recover whatever the processes before it left
 * (a SIGTERM leaves queued jobs behind by design; a SIGKILL leaves more), stops it, and checks the books.
 */
export async function recoverAndCheck(
  databaseUrl: string,
  prefix: string,
  env: Record<string, string> = {},
): Promise<string[]> {
  const failed = await recover(databaseUrl, prefix, env);
  if (failed) return [failed];
  const ds = await openDatabase(databaseUrl, 2);
  try {
    return await checkInvariants(ds, '1000000');
  } finally {
    await ds.destroy();
  }
}

/**
 * The recovery of `recoverAndCheck` without the check: what went wrong, or null once the app is quiet and stopped
 * (within `quietWithinMs`: a soak may leave a long price queue behind).
 */
export async function recover(
  databaseUrl: string,
  prefix: string,
  env: Record<string, string> = {},
  quietWithinMs = 30_000,
): Promise<string | null> {
  const recovery = startBot({
    DATABASE_URL: databaseUrl,
    QUEUE_PREFIX: prefix,
    MARKET_DATA: 'none',
    RECONCILE_EVERY_MS: '200',
    PLACEMENT_TIMEOUT_MS: '400',
    JOB_LOCK_MS: '1000',
    ...env,
  });
  const ds = await openDatabase(databaseUrl, 2);
  try {
    await recovery.waitFor(/trading on the PAPER exchange/);
    await waitUntilQuiet(ds, prefix, quietWithinMs);
    recovery.child.kill('SIGTERM');
    const code = await recovery.exited;
    return code === 0 ? null : `the recovery process exited with ${code}`;
  } finally {
    await ds.destroy();
  }
}
