import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Queue, QueueEvents, Worker } from 'bullmq';
import pg from 'pg';
import type { Actor } from '../src/app/actor.js';
import { createApp } from '../src/composition/app.js';
import { startWorker } from '../src/composition/worker-role.js';
import { loadConfig } from '../src/config.js';
import { seededRandom } from '../src/engine/random.js';
import type { Exchange, PlaceOrderRequest } from '../src/exchange/exchange.js';
import { redisConnection } from '../src/jobs/queues.js';
import { createLogger } from '../src/log/logger.js';
import { cpuSecondsOf, percentile, report, withDatabase } from './support.js';

const REDIS = 'redis://127.0.0.1:6379';
const OPERATOR: Actor = { id: 'bench', via: 'cli', role: 'operator' };

const ms = (x: number | undefined) => (x === undefined ? 'n/a' : `${x.toFixed(2)} ms`);

/**
 * add → completed through Redis and a worker doing nothing: the floor any queued step stands on. Jobs go in `inFlight`
 * at a time, as the fills of the latency run do (three symbols swing together).
 */
async function bareBullmqRoundTrip(count: number, inFlight: number): Promise<number[]> {
  const prefix = `bench_${randomBytes(3).toString('hex')}`;
  const connection = redisConnection(REDIS);
  const queue = new Queue('bare', { connection, prefix });
  const done = new Map<string, () => void>();
  const worker = new Worker('bare', async () => undefined, { connection, prefix, concurrency: 16 });
  worker.on('completed', (job) => done.get(job.id!)?.());
  await worker.waitUntilReady();
  const samples: number[] = [];
  const one = async (i: number) => {
    const finished = new Promise<void>((resolve) => done.set(`j${i}`, resolve));
    const t0 = performance.now();
    await queue.add('bare', { i }, { jobId: `j${i}`, removeOnComplete: true });
    await finished;
    if (i >= 100) samples.push(performance.now() - t0); // the first hundred warm up connections and the JIT
  };
  for (let i = 0; i < count + 100; i += inFlight) {
    await Promise.all(Array.from({ length: inFlight }, (_, k) => one(i + k)));
  }
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return samples;
}

/**
 * From the moment the paper exchange has recorded a fill (its transaction committed) to the moment it accepts the
 * grid's counter order: the exchange's push, the grid-events job, the engine step in its transaction, the claim and
 * the placement.
 */
async function fillToCounterOrder(fills: number): Promise<number[]> {
  return withDatabase(async (url) => {
    const config = loadConfig({
      DATABASE_URL: url,
      REDIS_URL: REDIS,
      QUEUE_PREFIX: `bench_${randomBytes(3).toString('hex')}`,
      MARKET_DATA: 'none',
      DEMO_GRIDS: 'false',
      LOG_LEVEL: 'error',
      RECONCILE_EVERY_MS: '600000',
    });
    const rt = await createApp(config, createLogger({ level: 'error', format: 'json', isTty: false }));
    const filledAt = new Map<string, number>();
    const samples: number[] = [];
    // From the moment the exchange has committed a fill (the first listener of its execution stream hears it) to
    // the moment it accepts the counter order, seen by a thin wrapper around the real paper exchange.
    rt.exchange.onExecutions(
      (executions) => {
        const now = performance.now();
        for (const e of executions) filledAt.set(e.clientOrderId, now);
      },
      { first: true },
    );
    const placeOrder = rt.exchange.placeOrder.bind(rt.exchange) as Exchange['placeOrder'];
    rt.exchange.placeOrder = async (r: PlaceOrderRequest) => {
      const outcome = await placeOrder(r);
      const accepted = performance.now();
      const m = /^(g\d+-\d+)-(\d+)$/.exec(r.clientOrderId);
      if (outcome.kind === 'placed' && m) {
        const t0 = filledAt.get(`${m[1]}-${Number(m[2]) - 1}`);
        if (t0 !== undefined) samples.push(accepted - t0);
      }
      return outcome;
    };
    const worker = await startWorker(rt);
    // Three grids on three symbols, each price swing crossing one line of each: three fills at once, on three grids.
    const markets = [
      { symbol: 'BTCUSDT', at: '100000', swing: '99750', grid: { lower: '90000', upper: '110000' } },
      { symbol: 'ETHUSDT', at: '3600', swing: '3591', grid: { lower: '3240', upper: '3960' } },
      { symbol: 'SOLUSDT', at: '180', swing: '179.55', grid: { lower: '162', upper: '198' } },
    ];
    for (const m of markets) {
      await rt.paper!.onPrice(m.symbol, 1, m.at);
      await rt.prices.set([{ symbol: m.symbol, price: m.at, atMs: Date.now() }]);
      const created = await rt.grids.create(OPERATOR, {
        symbol: m.symbol,
        ...m.grid,
        grids: 80,
        investment: '20000',
      });
      if (!created.ok) throw new Error(created.error.message);
    }
    let seq = 1;
    while (samples.length < fills) {
      const before = samples.length;
      seq++;
      await Promise.all(markets.map((m) => rt.paper!.onPrice(m.symbol, seq, seq % 2 === 0 ? m.swing : m.at)));
      const deadline = Date.now() + 5000;
      while (samples.length < before + markets.length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 1));
    }
    await worker.stop();
    await rt.close();
    return samples.slice(60); // the first swings warm up
  });
}

export async function benchFillLatency(): Promise<void> {
  console.log(
    '\n# Paper trading: fill → counter order accepted, against a bare BullMQ round trip (same run)',
  );
  const fills = await fillToCounterOrder(2000);
  const bare = await bareBullmqRoundTrip(2000, 3);
  const [f50, f99, b50, b99] = [
    percentile(fills, 50),
    percentile(fills, 99),
    percentile(bare, 50),
    percentile(bare, 99),
  ];
  report(
    'fill → counter order accepted',
    `p50 ${ms(f50)}, p99 ${ms(f99)}`,
    `(${fills.length} fills; target p99 ≤ 25 ms)`,
  );
  report(
    'bare BullMQ add → completed',
    `p50 ${ms(b50)}, p99 ${ms(b99)}`,
    `(${bare.length} jobs, 3 in flight)`,
  );
  report('ratio (p99 / p99)', (f99 / b99).toFixed(2), `(p50 / p50 ${(f50 / b50).toFixed(2)}; target ≤ 4)`);
  const sequential = await bareBullmqRoundTrip(2000, 1);
  report(
    'for reference: bare BullMQ, one job at a time',
    `p50 ${ms(percentile(sequential, 50))}, p99 ${ms(percentile(sequential, 99))}`,
  );
}

/** 200 grids of 50 lines on 100 simulated symbols, 2 price updates per second per symbol, one worker process. */
export async function benchScale(seconds = 60): Promise<void> {
  console.log(
    `\n# Scale: 200 grids x 50 lines, 100 symbols, 2 updates/s each, ${seconds} s, one worker process`,
  );
  await withDatabase(async (url) => {
    const symbols = Array.from({ length: 100 }, (_, i) => `SIM${String(i + 1).padStart(3, '0')}USDT`);
    const gridsFile = join(tmpdir(), `gridops-bench-grids-${process.pid}.json`);
    writeFileSync(
      gridsFile,
      JSON.stringify({
        grids: symbols.flatMap((symbol) => [
          { name: `${symbol}-a`, symbol, lower: '95', upper: '105', grids: 50, investment: '1000' },
          {
            name: `${symbol}-b`,
            symbol,
            lower: '97',
            upper: '103.5',
            grids: 50,
            investment: '1000',
            mode: 'geometric',
          },
        ]),
      }),
    );
    const prefix = `bench_${randomBytes(3).toString('hex')}`;
    const env = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: url,
      REDIS_URL: REDIS,
      QUEUE_PREFIX: prefix,
      MARKET_DATA: 'none',
      MARKET_SYMBOLS: symbols.join(','),
      GRIDS_FILE: gridsFile,
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      HTTP_PORT: '0',
      ROLE: 'worker',
    };
    // The feed runs here, in the bench, so the worker process does only what a worker does.
    const connection = redisConnection(REDIS);
    const prices = new Queue('prices', { connection, prefix });
    const rnd = seededRandom(7);
    const walk = new Map(symbols.map((s) => [s, 100]));
    // Updates arrive spread out, as an exchange's stream delivers them: one symbol every 5 ms, round-robin.
    let seq = 0;
    const tick = async () => {
      const symbol = symbols[seq % symbols.length]!;
      seq++;
      const p =
        walk.get(symbol)! *
        (1 + 0.00066 * (rnd() + rnd() + rnd() - 1.5) * 2 + 0.0005 * Math.log(100 / walk.get(symbol)!));
      walk.set(symbol, p);
      const atMs = Date.now();
      await prices.add(
        'price',
        { symbol, seq: atMs * 1000 + (seq % 1000), price: p.toFixed(2), atMs },
        { jobId: `px-${symbol}-${seq}`, removeOnComplete: true },
      );
    };
    const child = spawn(process.execPath, ['dist/src/main.js'], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const events = new Map<string, QueueEvents>();
    const added = new Map<string, number>();
    const lags: Record<string, number[]> = { prices: [], 'grid-events': [] };
    let measuring = false;
    for (const name of Object.keys(lags)) {
      const qe = new QueueEvents(name, { connection, prefix });
      await qe.waitUntilReady();
      qe.on('added', ({ jobId }) => added.set(`${name}/${jobId}`, performance.now()));
      qe.on('active', ({ jobId }) => {
        const t0 = added.get(`${name}/${jobId}`);
        added.delete(`${name}/${jobId}`);
        if (measuring && t0 !== undefined) lags[name]!.push(performance.now() - t0);
      });
      events.set(name, qe);
    }
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    // Warm-up: the worker creates and starts the 200 grids (10,000 orders) on the first prices.
    // Paced by elapsed time, not by timer ticks (timers drift): 200 updates a second in all.
    const paced = () => {
      const startedAt = performance.now();
      let sent = 0;
      return setInterval(() => {
        const due = Math.floor((performance.now() - startedAt) / 5);
        for (; sent < due; sent++) void tick();
      }, 5);
    };
    const warm = paced();
    let running = 0;
    for (let i = 0; i < 240 && running < 200; i++) {
      await new Promise((r) => setTimeout(r, 500));
      try {
        const r = await db.query(`SELECT count(*)::int AS n FROM grid WHERE status = 'running'`);
        running = r.rows[0].n;
      } catch {
        // the worker is still migrating
      }
    }
    clearInterval(warm);
    if (running < 200) console.log(`only ${running} of 200 grids started`);
    await new Promise((r) => setTimeout(r, 3000));
    const cpu0 = cpuSecondsOf(child.pid!);
    const fills0 = (await db.query(`SELECT count(*)::int AS n FROM trade`)).rows[0].n as number;
    const t0 = performance.now();
    const seq0 = seq;
    measuring = true;
    const load = paced();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    clearInterval(load);
    measuring = false;
    const wall = (performance.now() - t0) / 1000;
    const updates = seq - seq0;
    const cpu = (cpuSecondsOf(child.pid!) - cpu0) / wall;
    const rssMb = peakRssMb(child.pid!);
    const fills = ((await db.query(`SELECT count(*)::int AS n FROM trade`)).rows[0].n as number) - fills0;
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
    await db.end();
    for (const qe of events.values()) await qe.close();
    await prices.obliterate({ force: true }).catch(() => undefined);
    await prices.close();
    report(
      'grids running',
      `${running}`,
      `(${symbols.length} symbols, ${updates} price updates in ${wall.toFixed(1)} s = ${(updates / wall / symbols.length).toFixed(2)}/s per symbol)`,
    );
    report('fills during the run', `${fills}`, `(${(fills / wall).toFixed(1)} per second)`);
    report(
      'queue lag p99, prices',
      ms(percentile(lags.prices!, 99)),
      `(p50 ${ms(percentile(lags.prices!, 50))}; target p99 ≤ 100 ms)`,
    );
    report(
      'queue lag p99, grid events',
      ms(percentile(lags['grid-events']!, 99)),
      `(p50 ${ms(percentile(lags['grid-events']!, 50))}, ${lags['grid-events']!.length} jobs)`,
    );
    report('worker CPU', `${cpu.toFixed(2)} cores`, '(target ≤ 1 core; Postgres and Redis not included)');
    report('worker peak RSS', `${rssMb.toFixed(0)} MB`, '(target ≤ 400 MB)');
  });
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}
