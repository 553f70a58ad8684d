import { ExecutionRouter } from '../app/execution-router.js';
import { GridProcessor } from '../app/grid-processor.js';
import { DEFAULT_FEES, GridService } from '../app/grid-service.js';
import { PreTradeGuard } from '../app/pre-trade-guard.js';
import { Reconciler } from '../app/reconciler.js';
import { Reports } from '../app/reports.js';
import { RiskMonitor } from '../app/risk-monitor.js';
import { RiskService } from '../app/risk-service.js';
import { Views } from '../app/views.js';
import type { Config } from '../config.js';
import { PgAlertStore } from '../db/alert-store.js';
import { PgApiKeyChecks } from '../db/api-key-store.js';
import { PgAuditLog } from '../db/audit-store.js';
import { PgGridStore } from '../db/grid-store.js';
import { PgOrderStore } from '../db/order-store.js';
import { PgPreTradeReads } from '../db/pre-trade-store.js';
import { PgReportStore } from '../db/report-store.js';
import { PgKillSwitchStore, PgRiskBook, RedisKillFlag, RedisRiskFigures } from '../db/risk-store.js';
import { PgTradeStore } from '../db/trade-store.js';
import { PgTransactions } from '../db/transactions.js';
import { PgViewStore } from '../db/view-store.js';
import type { CallStatsRecorder } from '../exchange/call-stats.js';
import { QueueGridEventBus, QueueNotifier } from '../jobs/bus.js';
import { QUEUES } from '../jobs/queues.js';
import type { Logger } from '../log/logger.js';
import { CoinGecko } from '../market/coingecko.js';
import { PriceCache } from '../market/price-cache.js';
import type { Connections } from './connections.js';
import type { ExchangeSetup } from './exchange.js';

/** The application services every role shares, built once, in dependency order. */
export interface AppServices {
  readonly processor: GridProcessor;
  /** The kill switch. */
  readonly risk: RiskService;
  /** The risk figures and their triggers. */
  readonly monitor: RiskMonitor;
  readonly reconciler: Reconciler;
  readonly grids: GridService;
  /** What the control surfaces show: P/L, trades, orders, the ladder, balances, risk. */
  readonly views: Views;
  /** Daily and weekly reports, P/L series and chart figures, recent alerts: for chat, REST, CLI and jobs alike. */
  readonly reports: Reports;
  /** This database's latest prices (the drawdown's equity, the pre-trade checks). */
  readonly prices: PriceCache;
  /** The market overview (prices, top movers, trending coins), cached. */
  readonly market: CoinGecko;
  /** The grid, order and trade stores the worker's handlers read and write. */
  readonly stores: {
    readonly grids: PgGridStore;
    readonly orders: PgOrderStore;
    readonly trades: PgTradeStore;
  };
}

/**
 * The services in the order their dependencies allow. The processor, the pre-trade guard and the grid service read
 * the kill switch through its flag (a KillSwitchReader), not through the risk service, which needs the processor to
 * stop grids: so nothing is bound late.
 */
export async function createServices(
  config: Config,
  log: Logger,
  conns: Connections,
  ex: ExchangeSetup,
  scoped: { scope: string; callStats: CallStatsRecorder; jobTag: string },
): Promise<AppServices> {
  const { ds, redis, queues } = conns;
  const { exchange } = ex;
  const { scope, callStats, jobTag } = scoped;
  const bus = new QueueGridEventBus(queues[QUEUES.gridEvents], jobTag);
  const notifier = new QueueNotifier(queues[QUEUES.notifications], jobTag);
  const audit = new PgAuditLog(ds);
  const stores = { grids: new PgGridStore(ds), orders: new PgOrderStore(ds), trades: new PgTradeStore(ds) };
  // The latest prices feed the drawdown's equity and the pre-trade checks: this database's, like the risk figures.
  const prices = new PriceCache(redis, `${scope}:prices`);
  const killFlag = new RedisKillFlag(redis, scope);
  const figures = new RedisRiskFigures(redis, scope);
  const guard = new PreTradeGuard({
    reads: new PgPreTradeReads(ds),
    prices,
    exchange,
    isKilled: () => killFlag.isKilled(),
    trippedSymbols: async () => (await figures.trippedSymbols(Date.now())).sort(),
    limits: {
      maxPriceDistancePct: config.RISK_MAX_PRICE_DISTANCE_PCT,
      btcFilterDropPct: config.RISK_BTC_FILTER_PCT,
      btcLookbackMs: config.RISK_BTC_LOOKBACK_MS,
      maxOpenOrdersPerSymbol: config.RISK_MAX_OPEN_ORDERS_PER_SYMBOL ?? null,
      maxOpenOrdersTotal: config.RISK_MAX_OPEN_ORDERS ?? null,
      maxPositionQuotePerSymbol: config.RISK_MAX_POSITION_QUOTE ?? null,
    },
  });
  const processor = new GridProcessor({
    grids: stores.grids,
    orders: stores.orders,
    trades: stores.trades,
    exchange,
    bus,
    notifier,
    log,
    isKilled: () => killFlag.isKilled(),
    guard,
  });
  const risk = new RiskService({
    store: new PgKillSwitchStore(ds),
    flag: killFlag,
    audit,
    exchange,
    processor,
    notifier,
    log,
    cancelDeadlineMs: config.KILL_CANCEL_DEADLINE_MS,
    sellBaseOnKill: config.KILL_SELL_BASE,
  });
  // Redis learns the kill state from Postgres, the source of truth, before anything can place an order.
  await risk.restore();
  const router = new ExecutionRouter(stores.grids, bus, (symbol) => exchange.instrument(symbol)?.quoteAsset);
  exchange.onExecutions(async (executions) => {
    await router.route(executions);
  });
  const reconciler = new Reconciler({
    orders: stores.orders,
    trades: stores.trades,
    exchange,
    bus,
    processor,
    log,
    router,
    placementTimeoutMs: config.PLACEMENT_TIMEOUT_MS,
  });
  const monitor = new RiskMonitor({
    figures,
    book: new PgRiskBook(ds),
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
  const grids = new GridService({
    grids: stores.grids,
    orders: stores.orders,
    audit,
    transactions: new PgTransactions(ds),
    processor,
    prices,
    instrument: (s) => exchange.instrument(s),
    maxOpenOrders: exchange.maxOpenOrders,
    isKilled: () => killFlag.isKilled(),
    fees: DEFAULT_FEES,
    log,
    caps: { perGrid: config.MAX_GRID_INVESTMENT, total: config.MAX_TOTAL_INVESTMENT },
  });
  const views = new Views({ store: new PgViewStore(ds), prices, exchange, risk, monitor });
  const reports = new Reports({
    store: new PgReportStore(ds),
    keyChecks: new PgApiKeyChecks(ds),
    pnl: views,
    alerts: new PgAlertStore(ds),
  });
  const market = new CoinGecko({
    ...(config.COINGECKO_URL ? { baseUrl: config.COINGECKO_URL } : {}),
    ...(config.COINGECKO_API_KEY ? { apiKey: config.COINGECKO_API_KEY } : {}),
    keyType: config.COINGECKO_KEY_TYPE,
  });
  return { processor, risk, monitor, reconciler, grids, views, reports, prices, market, stores };
}
