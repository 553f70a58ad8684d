import type { Queue } from 'bullmq';
import { lastPaperPrices } from '../db/market-store.js';
import { BybitExecutionFeed, BybitTickerFeed } from '../exchange/bybit/live-feeds.js';
import { Lease } from '../jobs/lease.js';
import { jobId } from '../jobs/payloads.js';
import { QUEUES } from '../jobs/queues.js';
import { BTC_SYMBOL, followedSymbols, type MarketFeed, type PriceTick } from '../market/feed.js';
import { ReplayMarket } from '../market/replay-market.js';
import { SimulatedMarket } from '../market/simulated-market.js';
import type { App } from './app.js';

/**
 * The market feed (prices for every worker) and, on Bybit, the private execution stream: work one process at a time
 * may do, held by a lease in Redis that lapses within MARKET_LEASE_MS when its holder dies, so another worker takes it.
 */
export function startMarketLease(app: App): { stop(): Promise<void> } {
  const { config, log } = app;
  let feed: MarketFeed | null = null;
  let executions: BybitExecutionFeed | null = null;
  const lease = new Lease(
    app.redis,
    `${config.QUEUE_PREFIX}:lease:market`,
    config.MARKET_LEASE_MS,
    async (held) => {
      if (held) {
        log.info('this process now runs the market feed');
        feed = createFeed(app);
        // A followed-only symbol (BTC for its filter) has no paper market: it goes on from its latest price, or a
        // restart would put the simulated BTC back at its start price and the BTC filter would read that as a move.
        const cached = await app.prices.all();
        const last = await lastPaperPrices(app.ds);
        feed.start(
          (ticks) => publishTicks(app.queues[QUEUES.prices], ticks),
          new Map([...cached.map((p) => [p.symbol, p.price] as const), ...last]),
        );
        if (app.bybit?.exchange) {
          // Taking over the exchange streams: first make the store agree with the exchange (the previous holder may
          // have died mid-way), then listen; every resubscription reconciles again (Bybit replays nothing).
          await app.reconciler.run({ settleMs: 1000 });
          executions = new BybitExecutionFeed({
            api: app.bybit.api,
            exchange: app.bybit.exchange,
            url: app.bybit.endpoints.wsPrivate,
            apiKey: config.BYBIT_API_KEY!,
            apiSecret: config.BYBIT_API_SECRET!,
            pollMs: config.BYBIT_POLL_MS,
            fallbackAfterMs: config.BYBIT_WS_FALLBACK_MS,
            log,
            reconcile: async () => {
              await app.reconciler.run({ settleMs: 1000 });
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
  if (config.MARKET_DATA !== 'none' || app.bybit) lease.start();
  return { stop: () => lease.stop() };
}

/** The feed follows the traded symbols and BTC (for the BTC filter), traded or not. */
function createFeed(app: App): MarketFeed {
  const { config, symbols } = app;
  if (app.bybit) {
    return new BybitTickerFeed(followedSymbols(symbols), {
      api: app.bybit.api,
      url: app.bybit.endpoints.wsPublic,
      pollMs: config.BYBIT_POLL_MS,
      fallbackAfterMs: config.BYBIT_WS_FALLBACK_MS,
      log: app.log,
      crossCheck: {
        everyMs: config.RISK_PRICE_CROSSCHECK_MS,
        // A reference lives three checks: one missed read does not drop it, a REST outage does.
        onReference: (prices) => app.monitor.noteReference(prices, 3 * config.RISK_PRICE_CROSSCHECK_MS),
      },
    });
  }
  if (config.MARKET_DATA.startsWith('replay:')) {
    if (symbols[0] !== BTC_SYMBOL) {
      app.log.warn(
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
