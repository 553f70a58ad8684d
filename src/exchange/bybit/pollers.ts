import type { Logger } from '../../log/logger.js';
import type { MarketFeed, PriceTick, TickSink } from '../../market/feed.js';
import type { BybitApi } from './api.js';
import type { BybitExchange } from './bybit-exchange.js';
import { BybitError } from './errors.js';

/**
 * Executions over REST, for when the private WebSocket cannot be used (and as its backstop). Asks for executions
 * since a little before the newest one seen, hands the new ones to the exchange's listeners, and remembers the ids
 * it has passed on (bounded): the grid layer deduplicates by execution id anyway.
 */
export class ExecutionPoller {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private sinceMs: number;
  private readonly seen = new Set<string>();

  constructor(
    private readonly options: {
      api: BybitApi;
      exchange: BybitExchange;
      intervalMs: number;
      log: Logger;
      nowMs?: () => number;
    },
  ) {
    this.sinceMs = (options.nowMs ?? Date.now)() - 60_000;
  }

  start(): void {
    this.options.log.warn(`Bybit executions are polled over REST every ${this.options.intervalMs} ms`);
    const loop = () => {
      this.running = this.pollOnce()
        .then(() => undefined)
        .catch((e) => this.options.log.warn(`execution poll failed: ${(e as Error).message}`))
        .finally(() => {
          if (this.timer !== null) this.timer = setTimeout(loop, this.options.intervalMs);
        });
    };
    this.timer = setTimeout(loop, 0);
  }

  async pollOnce(): Promise<number> {
    const list = await this.options.api.executions({ startTimeMs: this.sinceMs });
    const fresh = list.filter((e) => !this.seen.has(e.execId));
    for (const e of fresh) {
      this.seen.add(e.execId);
      this.sinceMs = Math.max(this.sinceMs, Number(e.execTime) - 1000);
    }
    if (this.seen.size > 50_000) {
      for (const id of [...this.seen].slice(0, 25_000)) this.seen.delete(id);
    }
    await this.options.exchange.publish(fresh);
    return fresh.length;
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}

/** Last prices from Bybit's REST tickers, as a market feed (the public WebSocket's fallback). */
export class TickerPollFeed implements MarketFeed {
  private timer: NodeJS.Timeout | null = null;
  private counter = 0;

  constructor(
    readonly symbols: readonly string[],
    private readonly options: { api: BybitApi; intervalMs: number; log: Logger; nowMs?: () => number },
  ) {}

  start(sink: TickSink): void {
    const now = this.options.nowMs ?? Date.now;
    const loop = async () => {
      try {
        const tickers = await this.options.api.tickers();
        const atMs = now();
        this.counter = (this.counter + 1) % 1000;
        const ticks: PriceTick[] = tickers
          .filter((t) => this.symbols.includes(t.symbol))
          .map((t) => ({ symbol: t.symbol, seq: atMs * 1000 + this.counter, price: t.lastPrice, atMs }));
        await sink(ticks);
      } catch (e) {
        const why = e instanceof BybitError ? e.message : (e as Error).message;
        this.options.log.warn(`Bybit tickers: ${why}`);
      }
      if (this.timer !== null) this.timer = setTimeout(() => void loop(), this.options.intervalMs);
    };
    this.timer = setTimeout(() => void loop(), 0);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
