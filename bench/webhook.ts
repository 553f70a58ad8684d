import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';
import { QUEUES } from '../src/jobs/queues.js';
import { dropRedisKeys, freePort, report, withDatabase } from './support.js';

const REDIS = 'redis://127.0.0.1:6379';
const PASSPHRASE = 'bench-passphrase';
const TOKEN = 'bench-operator-token-0123456789';
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
const CONNECTIONS = Number(process.env.BENCH_WEBHOOK_CONNECTIONS ?? 16);
const WARM_UP_SECONDS = 3;
const DRAIN_LIMIT_MS = 30 * 60_000;

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Alerts as TradingView sends them: one per symbol in turn, each with an id of its own (autocannon fills [<id>]). */
function alertRequests(idPrefix: string): autocannon.Request[] {
  return SYMBOLS.map((symbol) => ({
    method: 'POST',
    path: '/webhook/tradingview',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      symbol,
      action: 'sell',
      price: 97250.0,
      zone: 'resistance',
      id: `${idPrefix}-[<id>]`,
      passphrase: PASSPHRASE,
    }),
  }));
}

async function load(url: string, idPrefix: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    idReplacement: true,
    requests: alertRequests(idPrefix),
  });
}

function accepted(r: autocannon.Result): number {
  return r.statusCodeStats?.['202']?.count ?? 0;
}

function line(label: string, r: autocannon.Result, count: number): void {
  const perSecond = count / (r.duration || 1);
  report(
    label,
    `${Math.round(perSecond).toLocaleString('en-US')}/s`,
    `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms (${count.toLocaleString('en-US')} in ${r.duration.toFixed(1)} s; ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts)`,
  );
}

/**
 * CPU seconds (user + system) used so far by the app's processes, Postgres (every backend, autovacuum included),
 * Redis and this process (autocannon), from /proc; Linux only, null elsewhere. A backend that exits during the load
 * takes its share with it, so Postgres may be undercounted, never overcounted.
 */
async function cpuSeconds(appPids: readonly number[]): Promise<Record<string, number> | null> {
  const ticks = 100; // USER_HZ on Linux
  const of = async (pid: number | string) => {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (stat === null) return null;
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return {
      comm: stat.slice(stat.indexOf('(') + 1, close),
      cpu: (Number(fields[11]) + Number(fields[12])) / ticks,
    };
  };
  const self = await of('self');
  if (!self) return null;
  const out: Record<string, number> = { app: 0, postgres: 0, redis: 0, autocannon: self.cpu };
  for (const pid of appPids) out.app! += (await of(pid))?.cpu ?? 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const p = await of(entry);
    if (p?.comm === 'postgres') out.postgres! += p.cpu;
    else if (p?.comm === 'redis-server') out.redis! += p.cpu;
  }
  return out;
}

/**
 * What the app asked of Postgres (transactions in its database, one per statement outside a transaction) and of
 * Redis (commands, the whole server: the bench is its only client) so far.
 */
async function roundTrips(
  db: pg.Client,
  prefix: string,
): Promise<{
  statements: number;
  redis: number;
  byCommand: Record<string, number>;
  jobs: Record<string, number>;
}> {
  const { rows } = await db.query(
    `SELECT (xact_commit + xact_rollback)::bigint::text AS n FROM pg_stat_database WHERE datname = current_database()`,
  );
  const redis = new Redis(REDIS);
  try {
    const info = await redis.info('commandstats');
    const byCommand: Record<string, number> = {};
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) byCommand[m[1]!] = Number(m[2]);
    const total = Object.values(byCommand).reduce((a, b) => a + b, 0);
    // BullMQ numbers a queue's jobs from <prefix>:<queue>:id.
    const jobs: Record<string, number> = {};
    for (const queue of Object.values(QUEUES))
      jobs[queue] = Number((await redis.get(`${prefix}:${queue}:id`)) ?? 0);
    return { statements: Number((rows[0] as { n: string }).n), redis: total, byCommand, jobs };
  } finally {
    redis.disconnect();
  }
}

/**
 * `npm run bench -- webhook`: TradingView alerts into the running app (`node dist/src/main.js`, every role in one
 * process, as `npm start` runs it) over loopback with autocannon, beside a bare Fastify route in its own process;
 * then waits until every accepted alert is processed and checks accepted = recorded = processed.
 */
export async function benchWebhook(seconds = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 30)): Promise<void> {
  console.log(
    `\nWebhook intake (autocannon, ${CONNECTIONS} connections, ${seconds} s each, loopback${process.env.BENCH_WEBHOOK_SPLIT === '1' ? '; api role in its own process' : ''})`,
  );

  const bare = spawn(process.execPath, ['dist/bench/webhook-bare.js'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const bareUrl = await new Promise<string>((resolve) =>
    bare.stdout!.once('data', (d) => resolve(String(d).trim())),
  );
  let bareResult: autocannon.Result;
  try {
    await load(bareUrl, 'warm', WARM_UP_SECONDS);
    bareResult = await load(bareUrl, 'bare', seconds);
  } finally {
    await stop(bare);
  }

  await withDatabase(async (databaseUrl) => {
    const port = await freePort();
    const prefix = `bench_${randomBytes(3).toString('hex')}`;
    // For profiling the app under load: BENCH_APP_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
    const nodeArgs = (process.env.BENCH_APP_NODE_ARGS ?? '').split(' ').filter(Boolean);
    // BENCH_WEBHOOK_SPLIT=1: the api role in one process and the others in a second, as a deployment may run them
    // (one process is one core for JavaScript); by default the whole app in one process, as `npm start` runs it.
    const split = process.env.BENCH_WEBHOOK_SPLIT === '1';
    const env = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: databaseUrl,
      REDIS_URL: REDIS,
      QUEUE_PREFIX: prefix,
      HTTP_PORT: String(port),
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      API_TOKEN: TOKEN,
      TV_PASSPHRASE: PASSPHRASE,
      // One sender (this benchmark) posts everything: the per-sender limit would be the figure otherwise.
      TV_RATE_LIMIT: '100000000',
    };
    const app = spawn(
      process.execPath,
      [...nodeArgs, 'dist/src/main.js', ...(split ? ['--role', 'api'] : [])],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env,
      },
    );
    const others = split
      ? ['worker', 'bot'].map((role) =>
          spawn(process.execPath, ['dist/src/main.js', '--role', role], {
            stdio: ['ignore', 'ignore', 'inherit'],
            env: { ...env, HTTP_PORT: '0' },
          }),
        )
      : [];
    const db = new pg.Client({ connectionString: databaseUrl });
    try {
      const base = `http://127.0.0.1:${port}`;
      await db.connect();
      // Ready once the demo grids run (they need the first prices).
      for (let i = 0; ; i++) {
        if (app.exitCode !== null) throw new Error('the app exited during start-up');
        if (i > 1200) throw new Error('the app did not start its demo grids within 2 minutes');
        const up = await fetch(`${base}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        const grids = await db.query(`SELECT count(*)::int AS n FROM grid WHERE status = 'running'`).then(
          (r) => (r.rows[0] as { n: number }).n,
          () => 0,
        );
        if (up && grids === SYMBOLS.length) break;
        await new Promise((r) => setTimeout(r, 100));
      }

      await load(base, 'warm', WARM_UP_SECONDS);
      const appPids = [app, ...others].map((c) => c.pid!);
      const before = await roundTrips(db, prefix);
      const cpuBefore = await cpuSeconds(appPids);
      const run = await load(base, 'run', seconds);
      const cpuAfter = await cpuSeconds(appPids);
      const after = await roundTrips(db, prefix);
      line('bare Fastify route (JSON parse, 202)', bareResult, bareResult['2xx']);
      line('webhook: alerts accepted (recorded and queued)', run, accepted(run));
      const ratio = (accepted(run) / run.duration / (bareResult['2xx'] / bareResult.duration)).toFixed(2);
      const p99Ratio = (run.latency.p99 / Math.max(bareResult.latency.p99, 1)).toFixed(1);
      report('webhook / bare route', `${ratio}x the throughput`, `p99 ${p99Ratio}x`);
      const n = Math.max(accepted(run), 1);
      const perAlert = (a: Record<string, number>, b: Record<string, number>) =>
        Object.entries(a)
          .map(([k, v]) => [k, v - (b[k] ?? 0)] as const)
          .filter(([, d]) => d / n >= 0.001)
          .sort((x, y) => y[1] - x[1])
          .map(([k, d]) => `${k} ${(d / n).toFixed(d / n < 0.1 ? 3 : 2)}`)
          .join(', ');
      if (cpuBefore && cpuAfter) {
        const used = Object.keys(cpuAfter).map((k) => [k, cpuAfter[k]! - cpuBefore[k]!] as const);
        const total = used.reduce((a, [, v]) => a + v, 0);
        report(
          'CPU per accepted alert (all processes)',
          `${Math.round((total / n) * 1e6)} µs`,
          `${used.map(([k, v]) => `${k} ${Math.round((v / n) * 1e6)}`).join(', ')}; ${((total / run.duration) * 100).toFixed(0)} % of a core in all, of the ${availableParallelism()} here`,
        );
      }
      report(
        'BullMQ jobs added per alert',
        perAlert(after.jobs, before.jobs) || 'none',
        'during the load, by queue',
      );
      report(
        'Postgres statements / Redis commands per alert',
        `${((after.statements - before.statements) / n).toFixed(2)} / ${((after.redis - before.redis) / n).toFixed(2)}`,
        `during the load, every role included (${perAlert(after.byCommand, before.byCommand)})`,
      );

      const t0 = performance.now();
      const counts = async () =>
        (
          await db.query(
            `SELECT count(*)::int AS recorded, count(*) FILTER (WHERE processed)::int AS processed,
                    count(DISTINCT external_id)::int AS distinct_ids FROM alert`,
          )
        ).rows[0] as { recorded: number; processed: number; distinct_ids: number };
      // Settled: everything recorded is processed, and nothing new was recorded since the last look (requests
      // still in flight when autocannon stopped finish on the server).
      let c = await counts();
      for (let previous = -1; ; ) {
        if (
          (c.processed === c.recorded && c.recorded === previous) ||
          performance.now() - t0 > DRAIN_LIMIT_MS
        )
          break;
        previous = c.recorded;
        await new Promise((r) => setTimeout(r, 250));
        c = await counts();
      }
      const drainS = (performance.now() - t0) / 1000;
      // autocannon stops counting at the deadline with requests still in flight: the app's own count of 202s, read
      // once everything has settled, is the number of alerts it accepted.
      const metrics = await (
        await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).text();
      const total = Number(
        /^gridops_webhook_requests_total\{outcome="accepted"\} (\d+)$/m.exec(metrics)?.[1] ?? Number.NaN,
      );
      report(
        'alerts accepted / recorded / processed',
        `${total} / ${c.recorded} / ${c.processed}`,
        total === c.recorded && c.recorded === c.processed && c.distinct_ids === c.recorded
          ? 'equal: nothing lost, nothing doubled'
          : 'MISMATCH',
      );
      report(
        'backlog applied after the load stopped',
        `${drainS.toFixed(1)} s`,
        `the worker applies ~${Math.round(c.processed / (seconds + WARM_UP_SECONDS + drainS))}/s over the whole run`,
      );
    } finally {
      await db.end().catch(() => undefined);
      await Promise.all([app, ...others].map(stop));
      await dropRedisKeys(REDIS, prefix);
    }
  });
}
