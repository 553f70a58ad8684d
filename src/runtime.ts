import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import cron from 'node-cron';
import type { DataSource } from 'typeorm';
import { AlertProcessor } from './app/alerts.js';
import { ApiKeyCheck } from './app/api-key-check.js';
import { applyGridsFile, createDemoGrids, demoGridsApply, moneyNote } from './app/bootstrap-grids.js';
import { databaseScope } from './app/database-scope.js';
import { ExecutionRouter } from './app/execution-router.js';
import { GridProcessor } from './app/grid-processor.js';
import { DEFAULT_FEES, GridService } from './app/grid-service.js';
import type { GridsFile } from './app/grids-file.js';
import type { Notification } from './app/ports.js';
import { PreTradeGuard } from './app/pre-trade-guard.js';
import { ReadinessProbe } from './app/readiness.js';
import { Reconciler } from './app/reconciler.js';
import { RiskMonitor } from './app/risk-monitor.js';
import { RiskService } from './app/risk-service.js';
import { Views } from './app/views.js';
import { type Chat, startChat } from './bot/start.js';
import { bybitEndpoints, type Config, moneyAtStake } from './config.js';
import { openDatabase } from './db/data-source.js';
import { BybitApi } from './exchange/bybit/api.js';
import { BybitExchange } from './exchange/bybit/bybit-exchange.js';
import { BybitError, explainAuthFailure } from './exchange/bybit/errors.js';
import { BybitExecutionFeed, BybitTickerFeed } from './exchange/bybit/live-feeds.js';
import { BybitRestClient } from './exchange/bybit/rest-client.js';
import { asProbe, CallStatsRecorder } from './exchange/call-stats.js';
import type { Exchange } from './exchange/exchange.js';
import { PaperExchange } from './exchange/paper/paper-exchange.js';
import { buildHttpServer } from './http/server.js';
import { QueueGridEventBus, QueueNotifier } from './jobs/bus.js';
import {
  alertHandler,
  gridEventHandler,
  maintenanceHandler,
  notificationHandler,
  priceHandler,
  reportHandler,
} from './jobs/handlers.js';
import { Lease } from './jobs/lease.js';
import { jobId } from './jobs/payloads.js';
import {
  DEFAULT_JOB_OPTIONS,
  PRICE_JOB_OPTIONS,
  QUEUES,
  type QueueName,
  redisConnection,
} from './jobs/queues.js';
import type { Logger } from './log/logger.js';
import { CoinGecko } from './market/coingecko.js';
import { BTC_SYMBOL, followedOnly, followedSymbols, type MarketFeed, type PriceTick } from './market/feed.js';
import { simulatedInstrument } from './market/instruments.js';
import { PriceCache } from './market/price-cache.js';
import { ReplayMarket } from './market/replay-market.js';
import { SimulatedMarket } from './market/simulated-market.js';

export type Role = Config['ROLE'];

/** Recorded alerts that never reached the queue (a crash between the two) are applied by a sweep this often. */
const ALERT_SWEEP_EVERY_MS = 30_000;
const ALERT_SWEEP_AFTER_MS = 10_000;

/** Everything a process holds, wired once. Only this file and main.ts know which concrete pieces run. */
export interface Runtime {
  readonly config: Config;
  readonly log: Logger;
  readonly ds: DataSource;
  readonly redis: Redis;
  readonly queues: Record<QueueName, Queue>;
  readonly exchange: Exchange;
  /** The paper exchange, in paper and dry-run modes (its book matches on the prices the feed brings). */
  readonly paper: PaperExchange | null;
  /** Bybit, in testnet, demo and live modes; its public prices also feed dry-run. */
  readonly bybit: {
    readonly api: BybitApi;
    readonly exchange: BybitExchange | null;
    readonly endpoints: { readonly rest: string; readonly wsPublic: string; readonly wsPrivate: string };
  } | null;
  readonly processor: GridProcessor;
  /** The kill switch. */
  readonly risk: RiskService;
  /** The risk figures and their triggers. */
  readonly monitor: RiskMonitor;
  /** The market overview (prices, top movers, trending coins), cached. */
  readonly market: CoinGecko;
  /** Outcomes of every exchange call, for the error rate the risk worker reads. */
  readonly callStats: CallStatsRecorder;
  /** The exchange API key's check (testnet, demo and live), repeated for each daily report. */
  readonly apiKeyCheck: ApiKeyCheck | null;
  /** The Redis prefix of this database's own keys (risk figures, price checks, prices, the kill flag). */
  readonly scope: string;
  readonly reconciler: Reconciler;
  readonly grids: GridService;
  /** What the control surfaces show: P/L, trades, orders, the ladder, balances, risk. */
  readonly views: Views;
  readonly prices: PriceCache;
  readonly symbols: readonly string[];
  close(): Promise<void>;
}

export function marketSymbols(config: Config): string[] {
  if (config.TRADING_MODE === 'paper' && config.MARKET_DATA.startsWith('replay:')) {
    const file = config.MARKET_DATA.slice('replay:'.length);
    const m = /([A-Z0-9]+?)(?:-|_|\.)/.exec(file.split('/').pop() ?? '');
    return [m?.[1] && simulatedInstrument(m[1]) ? m[1] : 'BTCUSDT'];
  }
  return config.MARKET_SYMBOLS.split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
}

/** Connects to Postgres (creating the database and migrating) and Redis, and builds the application. */
export async function createRuntime(config: Config, log: Logger): Promise<Runtime> {
  const ds = await openDatabase(config.DATABASE_URL, config.DB_POOL_SIZE);
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  const connection = redisConnection(config.REDIS_URL);
  const queues = Object.fromEntries(
    Object.values(QUEUES).map((name) => [
      name,
      new Queue(name, {
        connection,
        prefix: config.QUEUE_PREFIX,
        defaultJobOptions: name === QUEUES.prices ? PRICE_JOB_OPTIONS : DEFAULT_JOB_OPTIONS,
      }),
    ]),
  ) as Record<QueueName, Queue>;
  const symbols = marketSymbols(config);
  const endpoints = bybitEndpoints(config);
  const scope = await databaseScope(ds, redis, config.QUEUE_PREFIX, log);
  const callStats = new CallStatsRecorder(redis, scope);
  let apiKeyCheck: ApiKeyCheck | null = null;
  let bybit: Runtime['bybit'] = null;
  let paper: PaperExchange | null = null;
  let exchange: Exchange;
  if (endpoints) {
    const api = new BybitApi(
      new BybitRestClient({
        onOutcome: (o) =>
          callStats.record({
            retries: o.retried ?? 0,
            ok: o.ok,
            reason: o.failure
              ? `${o.failure.kind}:${'reason' in o.failure ? o.failure.reason : 'cause' in o.failure ? o.failure.cause : ''}`
              : null,
          }),
        baseUrl: endpoints.rest,
        apiKey: config.BYBIT_API_KEY,
        apiSecret: config.BYBIT_API_SECRET,
        recvWindowMs: config.BYBIT_RECV_WINDOW,
        timeoutMs: config.BYBIT_TIMEOUT_MS,
      }),
    );
    if (config.TRADING_MODE === 'dry-run') {
      // Live prices, paper fills: the paper exchange trades with Bybit's real filters.
      paper = new PaperExchange(ds, {
        instruments: (await api.instruments()).filter((i) => symbols.includes(i.symbol)),
        makerFee: DEFAULT_FEES.maker,
        takerFee: DEFAULT_FEES.taker,
        openingQuoteBalance: config.PAPER_BALANCE,
      });
      await paper.open();
      exchange = paper;
      bybit = { api, exchange: null, endpoints };
    } else {
      const live = new BybitExchange(api, { batch: config.TRADING_MODE !== 'demo' });
      await live.open(symbols);
      // Credentials and clock are checked now, so a wrong key or a skewed clock stops the start with one clear line.
      try {
        await live.balances();
      } catch (e) {
        if (e instanceof BybitError && e.failure.kind === 'auth') {
          throw Object.assign(new Error(explainAuthFailure(e.failure.reason)), { code: 'BYBIT_AUTH' });
        }
        throw e;
      }
      // And what the key may do, before any order: one that cannot trade spot, or can withdraw, stops the start.
      apiKeyCheck = new ApiKeyCheck({
        ds,
        api,
        mode: config.TRADING_MODE,
        host: moneyAtStake(config).host ?? endpoints.rest,
        log,
      });
      await apiKeyCheck.atStart();
      exchange = live;
      bybit = { api, exchange: live, endpoints };
    }
  } else {
    const instruments = symbols.map((s) => {
      const i = simulatedInstrument(s);
      if (!i) throw new Error(`MARKET_SYMBOLS: no instrument for ${s}`);
      return i;
    });
    paper = new PaperExchange(ds, {
      instruments,
      makerFee: DEFAULT_FEES.maker,
      takerFee: DEFAULT_FEES.taker,
      openingQuoteBalance: config.PAPER_BALANCE,
    });
    await paper.open();
    exchange = paper;
  }
  const bus = new QueueGridEventBus(queues[QUEUES.gridEvents]);
  const notifier = new QueueNotifier(queues[QUEUES.notifications]);
  // The processor asks the kill switch before every placement; the kill switch stops grids through the processor.
  let risk: RiskService | null = null;
  let guard: PreTradeGuard | null = null;
  const processor = new GridProcessor({
    ds,
    exchange,
    bus,
    notifier,
    log,
    isKilled: async () => (risk ? risk.isKilled() : false),
    guard: {
      check: (orders, options) =>
        guard ? guard.check(orders, options) : Promise.resolve(orders.map(() => ({ ok: true }) as const)),
    },
  });
  risk = new RiskService({
    ds,
    redis,
    scope,
    exchange,
    processor,
    notifier,
    log,
    cancelDeadlineMs: config.KILL_CANCEL_DEADLINE_MS,
    sellBaseOnKill: config.KILL_SELL_BASE,
  });
  await risk.restore();
  const router = new ExecutionRouter(ds, bus, (symbol) => exchange.instrument(symbol)?.quoteAsset);
  exchange.onExecutions(async (executions) => {
    await router.route(executions);
  });
  const reconciler = new Reconciler({
    ds,
    exchange,
    bus,
    processor,
    log,
    router,
    placementTimeoutMs: config.PLACEMENT_TIMEOUT_MS,
  });
  // The latest prices feed the drawdown's equity and the pre-trade checks: this database's, like the risk figures.
  const prices = new PriceCache(redis, `${scope}:prices`);
  const monitor = new RiskMonitor({
    ds,
    redis,
    scope,
    risk,
    callStats,
    prices,
    notifier,
    log,
    limits: {
      drawdown: { warnPct: config.RISK_DRAWDOWN_WARN_PCT, killPct: config.RISK_DRAWDOWN_KILL_PCT },
      errorRate: {
        killPct: config.RISK_ERROR_RATE_KILL_PCT,
        minCalls: config.RISK_ERROR_RATE_MIN_CALLS,
        windowMs: config.RISK_ERROR_RATE_WINDOW_MS,
      },
      volatility: {
        window: config.RISK_VOLATILITY_WINDOW,
        maxDeviationPct: config.RISK_VOLATILITY_PCT,
        calmMs: config.RISK_VOLATILITY_CALM_MS,
      },
      // The REST reference exists on Bybit only (its ticker feed cross-checks the stream); elsewhere no gap is judged.
      priceCheck: {
        maxJumpPct: config.RISK_PRICE_JUMP_PCT,
        maxSourceGapPct: config.RISK_PRICE_SOURCE_GAP_PCT,
      },
    },
  });
  guard = new PreTradeGuard({
    ds,
    prices,
    exchange,
    isKilled: () => risk!.isKilled(),
    trippedSymbols: () => monitor.trippedSymbols(),
    limits: {
      maxPriceDistancePct: config.RISK_MAX_PRICE_DISTANCE_PCT,
      btcFilterDropPct: config.RISK_BTC_FILTER_PCT,
      btcLookbackMs: config.RISK_BTC_LOOKBACK_MS,
      maxOpenOrdersPerSymbol: config.RISK_MAX_OPEN_ORDERS_PER_SYMBOL ?? null,
      maxOpenOrdersTotal: config.RISK_MAX_OPEN_ORDERS ?? null,
      maxPositionQuotePerSymbol: config.RISK_MAX_POSITION_QUOTE ?? null,
    },
  });
  const grids = new GridService({
    ds,
    processor,
    prices,
    instrument: (s) => exchange.instrument(s),
    maxOpenOrders: exchange.maxOpenOrders,
    isKilled: () => risk!.isKilled(),
    fees: DEFAULT_FEES,
    log,
    caps: { perGrid: config.MAX_GRID_INVESTMENT, total: config.MAX_TOTAL_INVESTMENT },
  });
  return {
    config,
    log,
    ds,
    redis,
    queues,
    exchange,
    paper,
    bybit,
    risk,
    monitor,
    market: new CoinGecko({
      ...(config.COINGECKO_URL ? { baseUrl: config.COINGECKO_URL } : {}),
      ...(config.COINGECKO_API_KEY ? { apiKey: config.COINGECKO_API_KEY } : {}),
      keyType: config.COINGECKO_KEY_TYPE,
    }),
    callStats,
    apiKeyCheck,
    scope,
    processor,
    reconciler,
    grids,
    views: new Views({ ds, prices, exchange, risk, monitor }),
    prices,
    symbols,
    async close() {
      await Promise.allSettled(Object.values(queues).map((q) => q.close()));
      await redis.quit().catch(() => undefined);
      await ds.destroy().catch(() => undefined);
    },
  };
}

export interface Services {
  stop(): Promise<void>;
}

function queueWorker(
  rt: Runtime,
  name: QueueName,
  handler: (job: Job, token?: string) => Promise<void>,
  concurrency: number,
): Worker {
  const { config, log } = rt;
  const worker = new Worker(name, handler, {
    connection: redisConnection(config.REDIS_URL),
    prefix: config.QUEUE_PREFIX,
    concurrency,
    lockDuration: config.JOB_LOCK_MS,
    stalledInterval: config.JOB_LOCK_MS,
  });
  worker.on('failed', (job, error) => {
    log.warn({ queue: name, jobId: job?.id, attempts: job?.attemptsMade }, `job failed: ${error.message}`);
  });
  worker.on('error', (error) => log.error({ queue: name }, `worker error: ${error.message}`));
  return worker;
}

/**
 * The worker role: grid events, prices, reconciliation, and (for one process at a time) the market feed. Any number
 * of worker processes may run side by side.
 */
export async function startWorker(
  rt: Runtime,
  gridsFile: GridsFile | null = null,
): Promise<Services & { bootstrapped: Promise<void> }> {
  const { config, log, queues } = rt;
  // Before any new work: make the store agree with the exchange (fills missed while down, intents never sent).
  await rt.reconciler.run({ settleMs: 1000 });
  // What /readyz reports: the exchange asked once per period by a worker, whatever the number of requests.
  const readiness = new ReadinessProbe({
    redis: rt.redis,
    prefix: config.QUEUE_PREFIX,
    log,
    checks: { exchange: () => asProbe(() => rt.exchange.balances()) },
  });
  readiness.start();
  const bus = new QueueGridEventBus(queues[QUEUES.gridEvents]);
  const workers = [
    queueWorker(rt, QUEUES.gridEvents, gridEventHandler(rt.processor), config.WORKER_CONCURRENCY),
    queueWorker(
      rt,
      QUEUES.prices,
      priceHandler({
        ds: rt.ds,
        paper: rt.paper,
        prices: rt.prices,
        bus,
        monitor: rt.monitor,
        held: rt.processor,
        followOnly: followedOnly(rt.symbols),
      }),
      config.WORKER_CONCURRENCY,
    ),
    queueWorker(rt, QUEUES.maintenance, maintenanceHandler(rt.reconciler, rt.monitor), 1),
    // Alerts are applied in order per symbol under a lock held on a pooled connection (src/app/alerts.ts): one job at
    // a time holds at most one connection, so no pool size can deadlock; each job applies everything pending.
    queueWorker(
      rt,
      QUEUES.alerts,
      alertHandler(
        new AlertProcessor({
          ds: rt.ds,
          grids: rt.grids,
          notifier: new QueueNotifier(queues[QUEUES.notifications]),
          log,
        }),
        ALERT_SWEEP_AFTER_MS,
      ),
      1,
    ),
  ];
  await queues[QUEUES.alerts].upsertJobScheduler('sweep', { every: ALERT_SWEEP_EVERY_MS }, { name: 'sweep' });
  await queues[QUEUES.maintenance].upsertJobScheduler(
    'reconcile',
    { every: config.RECONCILE_EVERY_MS },
    { name: 'reconcile' },
  );
  await queues[QUEUES.maintenance].upsertJobScheduler(
    'risk-check',
    { every: config.RISK_EVERY_MS },
    { name: 'risk-check' },
  );

  let feed: MarketFeed | null = null;
  let executions: BybitExecutionFeed | null = null;
  const lease = new Lease(
    rt.redis,
    `${config.QUEUE_PREFIX}:lease:market`,
    config.MARKET_LEASE_MS,
    async (held) => {
      if (held) {
        log.info('this process now runs the market feed');
        feed = createFeed(rt);
        const last = (await rt.ds.query(`SELECT symbol, last_price FROM paper_market`)) as {
          symbol: string;
          last_price: string;
        }[];
        // A followed-only symbol (BTC for its filter) has no paper market: it goes on from its latest price, or a
        // restart would put the simulated BTC back at its start price and the BTC filter would read that as a move.
        const cached = await rt.prices.all();
        feed.start(
          (ticks) => publishTicks(queues[QUEUES.prices], ticks),
          new Map([
            ...cached.map((p) => [p.symbol, p.price] as const),
            ...last.map((r) => [r.symbol, r.last_price] as const),
          ]),
        );
        if (rt.bybit?.exchange) {
          // Taking over the exchange streams: first make the store agree with the exchange (the previous holder may
          // have died mid-way), then listen; every resubscription reconciles again (Bybit replays nothing).
          await rt.reconciler.run({ settleMs: 1000 });
          executions = new BybitExecutionFeed({
            api: rt.bybit.api,
            exchange: rt.bybit.exchange,
            url: rt.bybit.endpoints.wsPrivate,
            apiKey: config.BYBIT_API_KEY!,
            apiSecret: config.BYBIT_API_SECRET!,
            pollMs: config.BYBIT_POLL_MS,
            fallbackAfterMs: config.BYBIT_WS_FALLBACK_MS,
            log,
            reconcile: async () => {
              await rt.reconciler.run({ settleMs: 1000 });
            },
            // Said in the logs by the feed, and kept here for /status.
            onPath: (path) => {
              rt.redis
                .hset(`${config.QUEUE_PREFIX}:exchange-paths`, 'executions', path)
                .catch(() => undefined);
            },
            // The latest balances as Bybit pushes them, for displays (/balance): Redis carries the latest.
            onWallet: async (coins) => {
              if (coins.length === 0) return;
              await rt.redis.hset(
                `${config.QUEUE_PREFIX}:wallet`,
                ...coins.flatMap((c) => [
                  c.coin,
                  JSON.stringify({ walletBalance: c.walletBalance, locked: c.locked }),
                ]),
              );
            },
          });
          executions.start();
        }
      } else if (feed) {
        log.warn('market feed lease lost; stopping the feed');
        await feed.stop();
        await executions?.stop();
        feed = null;
        executions = null;
      }
    },
  );
  if (config.MARKET_DATA !== 'none' || rt.bybit) lease.start();
  // Not awaited (it waits for prices, which need the roles running), but observable: the start-up listing waits for it.
  const bootstrapped = bootstrapGrids(rt, gridsFile).catch((e) =>
    log.error(`could not set up grids: ${(e as Error).message}`),
  );

  return {
    bootstrapped,
    async stop() {
      await readiness.stop();
      await lease.stop();
      // Stop taking jobs; in-flight ones finish (BullMQ's close waits for them).
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}

/**
 * The bot role: everything said to humans. The chat transports (Telegram, Discord) whose tokens are set, with their
 * commands; notifications, logged and delivered to every configured destination; and the daily (and weekly) report,
 * which node-cron enqueues at the configured time and zone. Run one bot process at a time.
 */
export async function startNotifier(rt: Runtime): Promise<Services & { chat: Chat }> {
  const { config, log, queues } = rt;
  const notifier = new QueueNotifier(queues[QUEUES.notifications]);
  const chat = await startChat(rt, log);
  const logged = notificationHandler(log.child({ component: 'notify' }));
  const workers = [
    queueWorker(
      rt,
      QUEUES.notifications,
      async (job) => {
        await logged(job);
        await chat.router.route(job.data as Notification);
      },
      4,
    ),
    queueWorker(rt, QUEUES.deliveries, (job, token) => chat.router.deliver(job, token), 4),
    queueWorker(
      rt,
      QUEUES.reports,
      // Each report first checks the exchange API key again, so its warnings (an expiry among them) are today's.
      async (job) => {
        await rt.apiKeyCheck?.refresh();
        await reportHandler({ ds: rt.ds, notify: (n) => notifier.notify(n) })(job);
      },
      1,
    ),
  ];
  const report = (kind: 'daily' | 'weekly') => () => {
    const day = new Date().toISOString().slice(0, 10);
    void queues[QUEUES.reports].add(kind, { kind, day }, { jobId: jobId(kind, day) });
  };
  const crons = [
    cron.schedule(config.DAILY_REPORT_CRON, report('daily'), { timezone: config.REPORT_TIMEZONE }),
    ...(config.WEEKLY_REPORT_CRON
      ? [cron.schedule(config.WEEKLY_REPORT_CRON, report('weekly'), { timezone: config.REPORT_TIMEZONE })]
      : []),
  ];
  return {
    chat,
    async stop() {
      for (const c of crons) c.stop();
      await Promise.all(workers.map((w) => w.close()));
      await chat.stop();
    },
  };
}

/** The feed follows the traded symbols and BTC (for the BTC filter), traded or not. */
function createFeed(rt: Runtime): MarketFeed {
  const { config, symbols } = rt;
  if (rt.bybit) {
    return new BybitTickerFeed(followedSymbols(symbols), {
      api: rt.bybit.api,
      url: rt.bybit.endpoints.wsPublic,
      pollMs: config.BYBIT_POLL_MS,
      fallbackAfterMs: config.BYBIT_WS_FALLBACK_MS,
      log: rt.log,
      onPath: (path) => {
        rt.redis.hset(`${config.QUEUE_PREFIX}:exchange-paths`, 'prices', path).catch(() => undefined);
      },
      crossCheck: {
        everyMs: config.RISK_PRICE_CROSSCHECK_MS,
        // A reference lives three checks: one missed read does not drop it, a REST outage does.
        onReference: (prices) => rt.monitor.noteReference(prices, 3 * config.RISK_PRICE_CROSSCHECK_MS),
      },
    });
  }
  if (config.MARKET_DATA.startsWith('replay:')) {
    if (symbols[0] !== BTC_SYMBOL) {
      rt.log.warn(
        `replaying ${symbols[0]} alone: there are no ${BTC_SYMBOL} prices, so the BTC filter cannot judge its buys`,
      );
    }
    return new ReplayMarket({
      file: config.MARKET_DATA.slice('replay:'.length),
      symbol: symbols[0]!,
      tickMs: config.MARKET_TICK_MS,
    });
  }
  return new SimulatedMarket({
    symbols: followedSymbols(symbols),
    tickMs: config.MARKET_TICK_MS,
    seed: config.MARKET_SEED,
  });
}

async function publishTicks(queue: Queue, ticks: readonly PriceTick[]): Promise<void> {
  await queue.addBulk(
    ticks.map((t) => ({ name: 'price', data: t, opts: { jobId: jobId('px', t.symbol, t.seq) } })),
  );
}

/**
 * Creates the grids of the grids file (or, on a first paper or dry-run run without one, the demo grids), once: with
 * several worker processes, the one holding a Postgres advisory lock does it. Grids start at a live price, so it waits
 * for prices.
 */
async function bootstrapGrids(rt: Runtime, gridsFile: GridsFile | null): Promise<void> {
  const { config, log } = rt;
  const demo = demoGridsApply(config);
  if (config.DEMO_GRIDS && !demo && !gridsFile) {
    log.info(
      `DEMO_GRIDS is ignored in ${config.TRADING_MODE} mode: demo grids are paper only (paper and dry-run modes); declare grids in GRIDS_FILE or create them through the API, the CLI or a chat`,
    );
  }
  if (!gridsFile && !demo) return;
  const runner = rt.ds.createQueryRunner();
  let locked = false;
  try {
    [{ locked }] = (await runner.query(`SELECT pg_try_advisory_lock(727275) AS locked`)) as [
      { locked: boolean },
    ];
    if (!locked) return;
    for (let i = 0; i < 600; i++) {
      const known = await rt.prices.all();
      if (rt.symbols.every((s) => known.some((p) => p.symbol === s))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await createConfiguredGrids(rt, gridsFile);
  } finally {
    // A session lock goes back to the pool with its connection: released whatever happened.
    if (locked) await runner.query(`SELECT pg_advisory_unlock(727275)`).catch(() => undefined);
    await runner.release();
  }
}

async function createConfiguredGrids(rt: Runtime, gridsFile: GridsFile | null): Promise<void> {
  const { config, log } = rt;
  if (gridsFile) {
    await applyGridsFile(rt.grids, gridsFile, log, moneyNote(config));
  } else if (demoGridsApply(config)) {
    await createDemoGrids({
      ds: rt.ds,
      service: rt.grids,
      prices: rt.prices,
      instruments: rt.symbols.map((s) => rt.exchange.instrument(s)!),
      log,
      config,
    });
  }
}

/**
 * The api role: health, the REST API and dashboard, metrics, the queue board and the TradingView webhook. Without
 * API_TOKEN nothing asks for a token, so it listens on loopback only, whatever HTTP_HOST says.
 */
export async function startApi(rt: Runtime): Promise<Services & { address: string }> {
  const { config, log } = rt;
  const server = buildHttpServer(rt);
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(config.HTTP_HOST);
  const host = config.API_TOKEN || loopback ? config.HTTP_HOST : '127.0.0.1';
  if (!config.API_TOKEN) {
    log.warn(
      `API_TOKEN is unset: the API and dashboard need no token, so HTTP listens on ${host} only` +
        (loopback ? '' : ` (not ${config.HTTP_HOST}); set API_TOKEN to serve other machines`),
    );
  }
  const address = await server.app.listen({ port: config.HTTP_PORT, host });
  log.info(`HTTP on ${address} (${server.summary})`);
  return { address, stop: () => server.close() };
}
