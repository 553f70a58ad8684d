import { Dec } from '../engine/money.js';
import {
  checkPrice,
  type DrawdownLimits,
  drawdown,
  type ErrorRateLimits,
  errorRate,
  type Level,
  type PriceCheckLimits,
  type VolatilityLimits,
  volatility,
  volatilityLevel,
} from '../engine/risk/rules.js';
import type { Logger } from '../log/logger.js';
import { SYSTEM_ACTOR } from './actor.js';
import type { NotificationSink } from './ports/core.js';
import type { CallStatsReader, LatestPrices, RiskBook, RiskFigureStore, RiskFigures } from './ports/risk.js';
import type { RiskService } from './risk-service.js';

export type { RiskFigures } from './ports/risk.js';

export interface RiskLimits {
  readonly drawdown: DrawdownLimits;
  readonly errorRate: ErrorRateLimits & { readonly windowMs: number };
  readonly volatility: VolatilityLimits & { readonly calmMs: number };
  readonly priceCheck: PriceCheckLimits;
}

/**
 * Layer 2: the figures the risk rules judge, measured every few seconds (a BullMQ job scheduler) and on every price:
 * drawdown of the whole book, the exchange's error rate, volatility per symbol. A warning is said once per change of
 * level; a kill pulls the kill switch with the figures. The latest figures live in Redis, their history in Postgres.
 */
export class RiskMonitor {
  constructor(
    private readonly deps: {
      /**
       * This database's figures (under its scope): the peak, the latest figures, the volatility windows and breakers
       * and the price checks judge this database's grids, never another's.
       */
      figures: RiskFigureStore;
      book: RiskBook;
      risk: Pick<RiskService, 'isKilled' | 'kill'>;
      callStats: CallStatsReader;
      prices: LatestPrices;
      notifier: NotificationSink;
      log: Logger;
      limits: RiskLimits;
    },
  ) {}

  /**
   * What a second source says the price is (Bybit's REST tickers while prices stream over the WebSocket), kept for
   * `ttlMs`: a streamed price far from it is held. A reference that is not renewed lapses, so a REST outage never
   * freezes trading on a healthy stream.
   */
  async noteReference(prices: readonly { symbol: string; price: string }[], ttlMs: number): Promise<void> {
    await this.deps.figures.noteReferences(prices, ttlMs);
  }

  /**
   * A price before anything trades on it. A jump beyond the limit from the last admitted price is held until the next
   * price confirms it (a bad print, or a feed glitch, must not fill a grid's orders), and so is a price the second
   * source disagrees with, until they agree again; admitted prices go on to the volatility breaker. Returns whether
   * the price may be traded on.
   */
  async admitPrice(symbol: string, price: string): Promise<boolean> {
    const { figures, limits } = this.deps;
    const { previous, held, reference } = await figures.priceCheck(symbol);
    const verdict = checkPrice(previous, price, limits.priceCheck, reference, held);
    if (verdict.kind === 'hold') {
      await figures.holdPrice(symbol, price, 600_000);
      const why =
        verdict.reason === 'jump'
          ? `it is ${verdict.pct} % from the last price ${previous} (limit ${limits.priceCheck.maxJumpPct} %)`
          : `the exchange's REST API says ${reference}: ${verdict.pct} % apart (limit ${limits.priceCheck.maxSourceGapPct} %)`;
      await this.say(
        `${verdict.reason}-${symbol}`,
        'warn',
        `${symbol} price ${price} held for confirmation`,
        [why],
      );
      return false;
    }
    // The hold is over: a later one is a new event, said again.
    await figures.admitPrice(symbol, price, [`jump-${symbol}`, `sources-disagree-${symbol}`]);
    await this.onPrice(symbol, price);
    return true;
  }

  /** Every price: kept for the volatility window; a symbol that moves too much trips its breaker at once. */
  async onPrice(symbol: string, price: string): Promise<void> {
    const { figures, limits } = this.deps;
    const state = volatility(
      symbol,
      await figures.pushPrice(symbol, price, limits.volatility.window),
      limits.volatility,
    );
    if (state.tripped) {
      // The breaker stays tripped until the symbol has been calm for calmMs: a sorted set scored by that moment, so
      // reading the tripped symbols is one range query (every order's pre-trade check reads it). A breaker that trips
      // again while tripped is the same event, said once; one that trips after calming down is a new one.
      const now = Date.now();
      await figures.tripBreaker(symbol, now + limits.volatility.calmMs, now, `volatility-${symbol}`);
      const tripped = await this.trippedSymbols();
      if (
        volatilityLevel(
          tripped.map((s) => ({ symbol: s, average: null, maxDeviationPct: '0', tripped: true })),
        ) === 'kill'
      ) {
        await this.kill('volatility', { symbols: tripped, [symbol]: state });
      } else {
        await this.say(`volatility-${symbol}`, 'warn', `${symbol} volatility breaker tripped: no new buys`, [
          `prices moved ${state.maxDeviationPct} % from their average ${state.average} (limit ${limits.volatility.maxDeviationPct} %)`,
        ]);
      }
    }
  }

  async trippedSymbols(): Promise<string[]> {
    return (await this.deps.figures.trippedSymbols(Date.now())).sort();
  }

  /** The scheduled check of everything. */
  async evaluate(): Promise<RiskFigures> {
    const { figures: store, book, limits, callStats } = this.deps;
    const latest = new Map((await this.deps.prices.all()).map((p) => [p.symbol, p.price]));
    const grids = await book.holdings();
    let equity = new Dec(0);
    for (const g of grids) {
      const price = latest.get(g.symbol);
      equity = equity.plus(g.quoteBalance).plus(price ? new Dec(g.baseQty).times(price) : 0);
    }
    const peakBefore = await store.peak();
    const dd = drawdown(grids.length ? peakBefore : null, equity.toFixed(), limits.drawdown);
    if (grids.length) await store.setPeak(dd.peak);
    const stats = await callStats.read(limits.errorRate.windowMs);
    const er = errorRate(stats.total, stats.failed, limits.errorRate);
    const breakers = await this.trippedSymbols();
    const figures: RiskFigures = {
      at: new Date().toISOString(),
      equity: dd.equity,
      peak: dd.peak,
      drawdownPct: dd.drawdownPct,
      drawdownLevel: dd.level,
      errorRatePct: er.ratePct,
      calls: er.total,
      failedCalls: er.failed,
      retries: stats.retries,
      failuresByReason: stats.byReason,
      errorRateLevel: er.level,
      breakers,
      volatilityLevel: breakers.length >= 2 ? 'kill' : breakers.length === 1 ? 'warn' : 'ok',
    };
    await store.saveLatest(figures);
    const levels = [dd.level, er.level, figures.volatilityLevel];
    await book.recordSnapshot(
      levels.includes('kill') ? 'kill' : levels.includes('warn') ? 'warn' : 'ok',
      figures,
    );
    if (dd.level === 'kill') await this.kill('drawdown', figures);
    else if (er.level === 'kill') await this.kill('error-rate', figures);
    else {
      await this.say('drawdown', dd.level, `drawdown ${dd.drawdownPct} % from the peak ${dd.peak}`, [
        `equity ${dd.equity}; warning at ${limits.drawdown.warnPct} %, kill at ${limits.drawdown.killPct} %`,
      ]);
    }
    return figures;
  }

  latest(): Promise<RiskFigures | null> {
    return this.deps.figures.latest();
  }

  private async kill(trigger: string, figures: unknown): Promise<void> {
    if (await this.deps.risk.isKilled()) return;
    this.deps.log.error({ trigger, figures }, `risk: ${trigger} pulls the kill switch`);
    await this.deps.risk.kill(SYSTEM_ACTOR, trigger, figures);
  }

  /**
   * A warning is said once when its level changes, not on every check, whichever process checks: the level is
   * recorded in Redis with an episode id drawn at the change, and the notification is keyed by it. A check run twice
   * (a redelivered job, two workers at once, a retry after a crash between the two steps) announces the same episode
   * under the same key, which the notification queue takes once; a later change is a new episode with a new key.
   */
  private async say(what: string, level: Level, title: string, lines: string[]): Promise<void> {
    const episode = await this.deps.figures.raiseWarning(what, level);
    if (episode === null) return;
    await this.deps.notifier.notify({
      category: 'risk',
      severity: 'warning',
      key: `risk-${what}-${episode}`,
      title: `Risk: ${title}`,
      lines,
    });
    await this.deps.figures.warningAnnounced(what, episode);
  }
}
