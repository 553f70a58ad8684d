import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
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
import type { CallStatsRecorder } from '../exchange/call-stats.js';
import type { Logger } from '../log/logger.js';
import type { PriceCache } from '../market/price-cache.js';
import { SYSTEM_ACTOR } from './actor.js';
import type { NotificationSink } from './ports.js';
import type { RiskService } from './risk-service.js';

export interface RiskLimits {
  readonly drawdown: DrawdownLimits;
  readonly errorRate: ErrorRateLimits & { readonly windowMs: number };
  readonly volatility: VolatilityLimits & { readonly calmMs: number };
  readonly priceCheck: PriceCheckLimits;
}

export interface RiskFigures {
  readonly at: string;
  readonly equity: string;
  readonly peak: string;
  readonly drawdownPct: string;
  readonly drawdownLevel: Level;
  readonly errorRatePct: string;
  readonly calls: number;
  readonly failedCalls: number;
  /** Retries the calls needed: reported beside the rate, not counted in it. */
  readonly retries: number;
  readonly failuresByReason: Readonly<Record<string, number>>;
  readonly errorRateLevel: Level;
  readonly breakers: readonly string[];
  readonly volatilityLevel: Level;
}

/**
 * Layer 2: the figures the risk rules judge, measured every few seconds (a BullMQ job scheduler) and on every price:
 * drawdown of the whole book, the exchange's error rate, volatility per symbol. A warning is said once per change of
 * level; a kill pulls the kill switch with the figures. The latest figures live in Redis, their history in Postgres.
 */
export class RiskMonitor {
  private readonly said = new Map<string, Level>();

  constructor(
    private readonly deps: {
      ds: DataSource;
      redis: Redis;
      /**
       * The Redis prefix of this database's own keys (databaseScope): the peak, the latest figures, the volatility
       * windows and breakers and the price checks judge this database's grids, never another's.
       */
      scope: string;
      risk: RiskService;
      callStats: CallStatsRecorder;
      prices: PriceCache;
      notifier: NotificationSink;
      log: Logger;
      limits: RiskLimits;
    },
  ) {}

  private key(name: string): string {
    return `${this.deps.scope}:risk:${name}`;
  }

  /**
   * What a second source says the price is (Bybit's REST tickers while prices stream over the WebSocket), kept for
   * `ttlMs`: a streamed price far from it is held. A reference that is not renewed lapses, so a REST outage never
   * freezes trading on a healthy stream.
   */
  async noteReference(prices: readonly { symbol: string; price: string }[], ttlMs: number): Promise<void> {
    if (prices.length === 0) return;
    const multi = this.deps.redis.multi();
    for (const p of prices) multi.set(this.key(`ref:${p.symbol}`), p.price, 'PX', ttlMs);
    await multi.exec();
  }

  /**
   * A price before anything trades on it. A jump beyond the limit from the last admitted price is held until the next
   * price confirms it (a bad print, or a feed glitch, must not fill a grid's orders), and so is a price the second
   * source disagrees with, until they agree again; admitted prices go on to the volatility breaker. Returns whether
   * the price may be traded on.
   */
  async admitPrice(symbol: string, price: string): Promise<boolean> {
    const { redis, limits } = this.deps;
    const lastKey = this.key(`last:${symbol}`);
    const heldKey = this.key(`held:${symbol}`);
    const [previous, held, reference] = await redis.mget(lastKey, heldKey, this.key(`ref:${symbol}`));
    const verdict = checkPrice(previous ?? null, price, limits.priceCheck, reference ?? null, held ?? null);
    if (verdict.kind === 'hold') {
      await redis.set(heldKey, price, 'PX', 600_000);
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
    this.said.delete(`jump-${symbol}`);
    this.said.delete(`sources-disagree-${symbol}`);
    await redis.multi().set(lastKey, price).del(heldKey).exec();
    await this.onPrice(symbol, price);
    return true;
  }

  /** Every price: kept for the volatility window; a symbol that moves too much trips its breaker at once. */
  async onPrice(symbol: string, price: string): Promise<void> {
    const { redis, limits } = this.deps;
    const key = this.key(`prices:${symbol}`);
    await redis.multi().rpush(key, price).ltrim(key, -limits.volatility.window, -1).exec();
    const state = volatility(symbol, await redis.lrange(key, 0, -1), limits.volatility);
    if (state.tripped) {
      // The breaker stays tripped until the symbol has been calm for calmMs: a sorted set scored by that moment, so
      // reading the tripped symbols is one range query (every order's pre-trade check reads it).
      await redis.zadd(this.key('breakers'), Date.now() + limits.volatility.calmMs, symbol);
      const tripped = await this.trippedSymbols();
      if (
        volatilityLevel(
          tripped.map((s) => ({ symbol: s, average: null, maxDeviationPct: '0', tripped: true })),
        ) === 'kill'
      ) {
        await this.kill('volatility', { symbols: tripped, [symbol]: state });
      } else {
        await this.say('volatility', 'warn', `${symbol} volatility breaker tripped: no new buys`, [
          `prices moved ${state.maxDeviationPct} % from their average ${state.average} (limit ${limits.volatility.maxDeviationPct} %)`,
        ]);
      }
    }
  }

  async trippedSymbols(): Promise<string[]> {
    return (await this.deps.redis.zrangebyscore(this.key('breakers'), Date.now(), '+inf')).sort();
  }

  /** The scheduled check of everything. */
  async evaluate(): Promise<RiskFigures> {
    const { ds, redis, limits, callStats } = this.deps;
    const latest = new Map((await this.deps.prices.all()).map((p) => [p.symbol, p.price]));
    const grids = (await ds.query(`SELECT symbol, quote_balance, base_qty FROM grid`)) as {
      symbol: string;
      quote_balance: string;
      base_qty: string;
    }[];
    let equity = new Dec(0);
    for (const g of grids) {
      const price = latest.get(g.symbol);
      equity = equity.plus(g.quote_balance).plus(price ? new Dec(g.base_qty).times(price) : 0);
    }
    const peakBefore = await redis.get(this.key('peak'));
    const dd = drawdown(grids.length ? peakBefore : null, equity.toFixed(), limits.drawdown);
    if (grids.length) await redis.set(this.key('peak'), dd.peak);
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
    await redis.set(this.key('latest'), JSON.stringify(figures));
    await ds.query(`INSERT INTO risk_metric (kind, level, figures) VALUES ('snapshot', $1, $2)`, [
      [dd.level, er.level, figures.volatilityLevel].includes('kill')
        ? 'kill'
        : [dd.level, er.level, figures.volatilityLevel].includes('warn')
          ? 'warn'
          : 'ok',
      JSON.stringify(figures),
    ]);
    if (dd.level === 'kill') await this.kill('drawdown', figures);
    else if (er.level === 'kill') await this.kill('error-rate', figures);
    else {
      await this.say('drawdown', dd.level, `drawdown ${dd.drawdownPct} % from the peak ${dd.peak}`, [
        `equity ${dd.equity}; warning at ${limits.drawdown.warnPct} %, kill at ${limits.drawdown.killPct} %`,
      ]);
    }
    return figures;
  }

  async latest(): Promise<RiskFigures | null> {
    const raw = await this.deps.redis.get(this.key('latest'));
    return raw ? (JSON.parse(raw) as RiskFigures) : null;
  }

  private async kill(trigger: string, figures: unknown): Promise<void> {
    if (await this.deps.risk.isKilled()) return;
    this.deps.log.error({ trigger, figures }, `risk: ${trigger} pulls the kill switch`);
    await this.deps.risk.kill(SYSTEM_ACTOR, trigger, figures);
  }

  /** A warning is said once when its level changes, not on every check. */
  private async say(what: string, level: Level, title: string, lines: string[]): Promise<void> {
    const before = this.said.get(what) ?? 'ok';
    this.said.set(what, level);
    if (level === before || level === 'ok') return;
    await this.deps.notifier.notify({
      category: 'risk',
      severity: 'warning',
      key: `risk-${what}-${Date.now()}`,
      title: `Risk: ${title}`,
      lines,
    });
  }
}
