import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import pg from 'pg';
import { openDatabase } from '../src/db/data-source.js';
import { QUEUES, redisConnection } from '../src/jobs/queues.js';
import { checkEachInvariant } from '../test/support/invariants.js';
import { recover } from '../test/support/recovery.js';
import type { ProbeReply, ProbeRequest, ProbeSample } from './soak-probe.js';
import { cpuSecondsOf, dropRedisKeys, freePort, percentile, withDatabase } from './support.js';

const REDIS = 'redis://127.0.0.1:6379';
const SYMBOLS = Array.from({ length: 5 }, (_, i) => `SIM${String(i + 1).padStart(3, '0')}USDT`);
/** The paper exchange's opening USDT (the app's default PAPER_BALANCE), which the USDT invariant starts from. */
const OPENING_QUOTE = '1000000';
const RSS_GROWTH_TARGET_PCT = 5;
const MB = 1024 * 1024;

/**
 * Ten grids per synthetic symbol (each starts at 100), lines 0.2 % to 1 % apart. An update moves a price ~0.07 % (σ),
 * so a 0.2 % grid sees a fill every ~10 updates while the price is inside it, and the wide ones hold it over the
 * ~5 % (σ) a walk of 10 minutes wanders at one update per 100 ms: fills never stop. Few symbols, many grids each: the
 * price queue (one job per symbol and update) stays within what a shared 2-core machine keeps up with.
 */
const SHAPES = [
  { lower: '98', upper: '102', grids: 20, mode: 'arithmetic' },
  { lower: '96', upper: '104', grids: 40, mode: 'arithmetic' },
  { lower: '95', upper: '105', grids: 25, mode: 'geometric' },
  { lower: '94', upper: '106', grids: 30, mode: 'geometric' },
  { lower: '92', upper: '108', grids: 40, mode: 'geometric' },
  { lower: '90', upper: '110', grids: 40, mode: 'arithmetic' },
  { lower: '88', upper: '112', grids: 40, mode: 'geometric' },
  { lower: '86', upper: '114', grids: 35, mode: 'arithmetic' },
  { lower: '85', upper: '115', grids: 30, mode: 'arithmetic' },
  { lower: '80', upper: '120', grids: 40, mode: 'arithmetic' },
] as const;

function gridsFile(): unknown {
  return {
    grids: SYMBOLS.flatMap((symbol) =>
      SHAPES.map((shape, k) => ({ name: `${symbol}-${k + 1}`, symbol, ...shape, investment: '1000' })),
    ),
  };
}

const fmt = (x: number | undefined, digits = 1) =>
  x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits);

function row(cells: string[]): void {
  const widths = [6, 8, 9, 11, 11, 8, 11, 7, 10];
  console.log(cells.map((c, i) => c.padStart(widths[i] ?? 10)).join(' '));
}

/** Asks the probe inside the app (bench/soak-probe.ts) and waits for its answer. */
function ask<K extends ProbeReply['probe']>(
  app: ChildProcess,
  request: ProbeRequest & { probe: K },
): Promise<Extract<ProbeReply, { probe: K }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: ProbeReply) => {
      if (m.probe !== request.probe) return;
      app.off('message', onMessage);
      app.off('exit', onExit);
      resolve(m as Extract<ProbeReply, { probe: K }>);
    };
    const onExit = () => {
      app.off('message', onMessage);
      reject(new Error('the app exited'));
    };
    app.on('message', onMessage);
    app.once('exit', onExit);
    app.send(request);
  });
}

/**
 * `npm run bench -- soak`: the whole app (`node dist/src/main.js`, every role in one process, paper trading on the
 * simulated market, as `npm start` runs it) with 50 grids on 5 symbols, prices every BENCH_SOAK_TICK_MS (100), for
 * BENCH_SOAK_MINUTES (10), while one dashboard refreshes every 5 s and Prometheus scrapes every 15 s. Each minute: the
 * app's RSS, heap and live heap, its event-loop delay p99, the prices it took and their queue lag p99, the fills
 * applied and its CPU. Then it stops the app with SIGTERM, lets a recovery worker apply what the stop left queued (as
 * the crash test does) and checks the crash test's invariants. Returns false when the app crashed (or hung at its
 * stop) or an invariant broke; times never fail it.
 *
 * The app runs as its own process, not in the bench's: its RSS must not include the bench's own bookkeeping (the
 * queue events it reads, the lags it keeps), and its event loop must not run the bench's work. A probe loaded with
 * --import reads the memory and event-loop figures inside it and answers over IPC.
 * BENCH_SOAK_HEAP_SNAPSHOTS=DIR writes a heap snapshot of the app after minute 2 and after the last minute (a leak
 * shows in their comparison in DevTools; each takes the app's event loop for a second or more);
 * BENCH_SOAK_NODE_ARGS adds node options (`--expose-gc`: memory is read after a full collection).
 */
export async function benchSoak(
  minutes = Number(process.env.BENCH_SOAK_MINUTES ?? 10),
  tickMs = Number(process.env.BENCH_SOAK_TICK_MS ?? 100),
): Promise<boolean> {
  const gridCount = SYMBOLS.length * SHAPES.length;
  console.log(
    `\n# Soak: the whole app, ${gridCount} grids on ${SYMBOLS.length} simulated symbols, a price each per ${tickMs} ms, ${minutes} min`,
  );
  return withDatabase(async (databaseUrl) => {
    const prefix = `bench_${randomBytes(3).toString('hex')}`;
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const gridsPath = join(tmpdir(), `gridops-soak-grids-${process.pid}.json`);
    const logPath = join(tmpdir(), `gridops-soak-${process.pid}.log`);
    writeFileSync(gridsPath, JSON.stringify(gridsFile()));
    const logFd = openSync(logPath, 'w');
    const snapshots = process.env.BENCH_SOAK_HEAP_SNAPSHOTS;
    if (snapshots) mkdirSync(snapshots, { recursive: true });
    const nodeArgs = (process.env.BENCH_SOAK_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const probe = fileURLToPath(new URL('./soak-probe.js', import.meta.url));
    const app = spawn(process.execPath, [...nodeArgs, '--import', probe, 'dist/src/main.js'], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: databaseUrl,
        REDIS_URL: REDIS,
        QUEUE_PREFIX: prefix,
        HTTP_PORT: String(port),
        MARKET_SYMBOLS: SYMBOLS.join(','),
        MARKET_TICK_MS: String(tickMs),
        GRIDS_FILE: gridsPath,
        // The app's own default level, written to a file: what a deployment logs is part of what runs for weeks.
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
      },
      stdio: ['ignore', logFd, 'inherit', 'ipc'],
    });
    closeSync(logFd);
    let stopping = false;
    let crashed: string | null = null;
    const exited = new Promise<number | string>((resolve) =>
      app.once('exit', (code, signal) => {
        if (!stopping) crashed = `the app exited with ${code ?? signal} during the run`;
        resolve(code ?? signal ?? -1);
      }),
    );

    // The price queue's lag: from a job's `added` event to its `active` one. Both times are the ids of Redis stream
    // entries (the server's clock when it wrote them), so how late this process reads the stream does not count.
    const streamMs = (id: string) => Number(id.slice(0, id.indexOf('-')));
    const prices = new Queue(QUEUES.prices, { connection: redisConnection(REDIS), prefix });
    const priceEvents = new QueueEvents(QUEUES.prices, { connection: redisConnection(REDIS), prefix });
    await priceEvents.waitUntilReady();
    const addedAt = new Map<string, number>();
    let minuteLags: number[] = [];
    const allLags: number[] = [];
    let measuring = false;
    priceEvents.on('added', ({ jobId }, id) => addedAt.set(jobId, streamMs(id)));
    priceEvents.on('active', ({ jobId }, id) => {
      const t0 = addedAt.get(jobId);
      if (t0 === undefined) return;
      addedAt.delete(jobId);
      if (measuring) minuteLags.push(streamMs(id) - t0);
    });

    const db = new pg.Client({ connectionString: databaseUrl });
    const pollers: NodeJS.Timeout[] = [];
    let ok = true;
    try {
      await db.connect();
      const count = async (sql: string) =>
        db.query(sql).then(
          (r) => (r.rows[0] as { n: number }).n,
          () => 0, // the app is still migrating
        );
      // Ready once the API answers and every grid of the grids file runs (they start on the first prices).
      const startedAt = performance.now();
      for (;;) {
        if (crashed) throw new Error(crashed);
        if (performance.now() - startedAt > 180_000)
          throw new Error(`the app did not start its ${gridCount} grids within 3 minutes`);
        const up = await fetch(`${base}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (up && (await count(`SELECT count(*)::int AS n FROM grid WHERE status = 'running'`)) === gridCount)
          break;
        await new Promise((r) => setTimeout(r, 500));
      }
      // The prices that queued up while the grids started are worked off before the first minute, so minute 1
      // measures the app running, not its start.
      const waiting = async () => (await prices.getJobCounts('waiting')).waiting ?? 0;
      const runningAt = performance.now();
      for (let quiet = 0; quiet < 3 && performance.now() - runningAt < 120_000; ) {
        if (crashed) throw new Error(crashed);
        quiet = (await waiting()) < 50 ? quiet + 1 : 0;
        await new Promise((r) => setTimeout(r, 500));
      }
      console.log(
        `${gridCount} grids running after ${((runningAt - startedAt) / 1000).toFixed(1)} s; ${await waiting()} prices waiting ${((performance.now() - runningAt) / 1000).toFixed(0)} s later`,
      );

      // One dashboard open (it refreshes every 5 s: src/http/dashboard.ts) and a Prometheus scrape every 15 s, so the
      // api role's caches and rendering run for the whole soak too.
      let httpFailures = 0;
      let httpRequests = 0;
      const get = async (path: string) => {
        httpRequests++;
        const r = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) }).catch(() => null);
        if (!r?.ok) httpFailures++;
        await r?.arrayBuffer().catch(() => undefined);
      };
      let refreshing = false;
      pollers.push(
        setInterval(() => {
          if (refreshing) return;
          refreshing = true;
          void Promise.all(
            [
              '/api/grids',
              '/api/risk',
              '/api/trades?limit=10',
              '/api/alerts?limit=10',
              '/api/prices',
              '/api/pnl?period=day',
            ].map(get),
          )
            .then(() => get('/api/pnl.png?period=day'))
            .finally(() => {
              refreshing = false;
            });
        }, 5000),
        setInterval(() => void get('/metrics'), 15_000),
      );

      row([
        'minute',
        'RSS MB',
        'heap MB',
        'live heap',
        'loop p99',
        'prices',
        'queue p99',
        'fills',
        'app cores',
      ]);
      app.send({ probe: 'start' } satisfies ProbeRequest);
      const samples: ProbeSample[] = [];
      const first = await ask(app, { probe: 'sample' });
      samples.push(first.sample);
      row(['0', fmt(first.sample.rss / MB), fmt(first.sample.heapUsed / MB), '-', '-', '-', '-', '-', '-']);
      const t0 = performance.now();
      let fills = await count(`SELECT count(*)::int AS n FROM trade`);
      const fills0 = fills;
      let cpu = cpuSecondsOf(app.pid!);
      measuring = true;
      for (let minute = 1; minute <= minutes; minute++) {
        const due = t0 + minute * 60_000;
        while (performance.now() < due && !crashed)
          await new Promise((r) => setTimeout(r, Math.min(1000, due - performance.now())));
        if (crashed) throw new Error(crashed);
        const { sample } = await ask(app, { probe: 'sample' });
        const lags = minuteLags;
        minuteLags = [];
        allLags.push(...lags);
        const nowFills = await count(`SELECT count(*)::int AS n FROM trade`);
        const nowCpu = cpuSecondsOf(app.pid!);
        samples.push(sample);
        row([
          String(minute),
          fmt(sample.rss / MB),
          fmt(sample.heapUsed / MB),
          sample.liveHeap === null ? '-' : fmt(sample.liveHeap / MB),
          `${fmt(sample.loopP99Ms)} ms`,
          String(lags.length),
          lags.length ? `${fmt(percentile(lags, 99), 0)} ms` : '-',
          String(nowFills - fills),
          `${fmt((nowCpu - cpu) / 60, 2)}`,
        ]);
        fills = nowFills;
        cpu = nowCpu;
        if (snapshots && (minute === 2 || minute === minutes)) {
          const { file } = await ask(app, {
            probe: 'snapshot',
            file: join(snapshots, `soak-minute-${minute}.heapsnapshot`),
          });
          console.log(`heap snapshot: ${file}`);
        }
      }
      measuring = false;
      for (const p of pollers) clearInterval(p);
      const last = samples[samples.length - 1]!;
      const from = samples[Math.min(2, samples.length - 1)]!;
      const growth = ((last.rss - from.rss) / from.rss) * 100;
      console.log('');
      console.log(
        `RSS growth, minute ${Math.min(2, minutes)} → ${minutes}: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} % (${fmt(from.rss / MB)} → ${fmt(last.rss / MB)} MB; target ≤ ${RSS_GROWTH_TARGET_PCT} %)${growth <= RSS_GROWTH_TARGET_PCT ? '' : '  ABOVE TARGET'}`,
      );
      // RSS at two instants moves with the garbage not yet collected; the range and the live heap say whether it grew.
      const steady = samples.slice(Math.min(2, samples.length - 1));
      const rssRange = steady.map((x) => x.rss / MB);
      const live = steady.filter((x) => x.liveHeap !== null).map((x) => x.liveHeap! / MB);
      console.log(
        `RSS over minutes ${Math.min(2, minutes)}-${minutes}: ${fmt(Math.min(...rssRange))}-${fmt(Math.max(...rssRange))} MB; live heap (after the minute's last full GC) ${live.length ? `${fmt(live[0])} → ${fmt(live[live.length - 1])} MB (${live.length > 1 ? `${((live[live.length - 1]! / live[0]! - 1) * 100).toFixed(1)} %` : 'one reading'})` : 'not measured (no full GC)'}`,
      );
      console.log(
        `event-loop delay over the run: p99 ${fmt(last.runLoopP99Ms)} ms, max ${fmt(last.runLoopMaxMs)} ms`,
      );
      console.log(
        `price queue lag over the run: p50 ${fmt(percentile(allLags, 50), 0)} ms, p99 ${fmt(percentile(allLags, 99), 0)} ms (${allLags.length} price jobs)`,
      );
      const wall = (performance.now() - t0) / 1000;
      console.log(
        `fills: ${fills - fills0} in ${fmt(wall / 60, 1)} min (${fmt((fills - fills0) / wall, 1)}/s); HTTP: ${httpRequests} requests, ${httpFailures} failed`,
      );
    } catch (e) {
      ok = false;
      console.log(`SOAK FAILED: ${(e as Error).message}`);
    } finally {
      for (const p of pollers) clearInterval(p);
      await priceEvents.close();
      await prices.close();
      await db.end().catch(() => undefined);
    }

    // A clean stop, as a deployment stops it; main.ts gives up (exit 1) after 10 s.
    stopping = true;
    const stopAt = performance.now();
    app.kill('SIGTERM');
    const killer = setTimeout(() => app.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(killer);
    const stopS = fmt((performance.now() - stopAt) / 1000, 1);
    if (crashed) ok = false;
    else if (code === 'SIGKILL') {
      ok = false;
      console.log('the app did not exit within 30 s of SIGTERM: killed');
    } else if (code === 0) console.log(`the app stopped cleanly in ${stopS} s`);
    // main.ts stops waiting for in-flight jobs after 10 s and exits 1; what they left is the recovery's to finish.
    else
      console.log(`the app's stop: exit ${code} after ${stopS} s (in-flight work outlasted main.ts's 10 s)`);

    const log = readFileSync(logPath, 'utf8').split('\n');
    const warnings = log.filter((l) => l.includes('"level":40')).length;
    const errors = log.filter((l) => /"level":(50|60)/.test(l)).length;
    console.log(
      `app log: ${log.length - 1} lines, ${warnings} warnings, ${errors} errors${warnings + errors ? ` (${logPath})` : ''}`,
    );
    if (warnings + errors === 0) rmSync(logPath, { force: true });

    // What the stop left queued (by design) is applied by a worker on a frozen market, then the books are checked.
    const failedRecovery = await recover(
      databaseUrl,
      prefix,
      { MARKET_SYMBOLS: SYMBOLS.join(',') },
      10 * 60_000,
    ).catch((e: Error) => e.message);
    // Not a failure by itself: the invariants say whether anything was lost or doubled.
    if (failedRecovery) console.log(`recovery before the check: ${failedRecovery}`);
    const ds = await openDatabase(databaseUrl, 2);
    try {
      const [{ n }] = (await ds.query(`SELECT count(*)::int AS n FROM trade`)) as [{ n: number }];
      console.log(`invariants (the crash test's), over ${n} fills:`);
      for (const { name, problems } of await checkEachInvariant(ds, OPENING_QUOTE)) {
        if (problems.length > 0) ok = false;
        console.log(
          `  ${problems.length === 0 ? 'pass' : 'FAIL'}  ${name}${problems.length ? `: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}` : ''}`,
        );
      }
    } finally {
      await ds.destroy();
      await dropRedisKeys(REDIS, prefix);
      rmSync(gridsPath, { force: true });
    }
    return ok;
  });
}
