import { z } from 'zod';
import type { Logger } from '../../log/logger.js';
import type { MarketFeed, PriceTick, TickSink } from '../../market/feed.js';
import { type BybitApi, BybitExecution } from './api.js';
import type { BybitExchange } from './bybit-exchange.js';
import { ExecutionPoller, TickerPollFeed } from './pollers.js';
import { BybitStream, type StreamStatus } from './streams.js';

export type DataPath = 'websocket' | 'polling';

/**
 * Bybit's last prices from the public stream (tickers.SYMBOL); while the stream is down for longer than
 * `fallbackAfterMs`, from REST polling instead, said in the log and in `path` (for /status). While the stream is the
 * source, REST tickers are read every `crossCheck.everyMs` as a second opinion (a stream that goes stale or prints
 * nonsense is caught by the risk monitor comparing the two).
 */
export class BybitTickerFeed implements MarketFeed {
  private stream: BybitStream | null = null;
  private poller: TickerPollFeed | null = null;
  private fallbackTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private counter = 0;
  private current: DataPath = 'websocket';

  get path(): DataPath {
    return this.current;
  }

  private set path(path: DataPath) {
    if (path !== this.current) this.options.onPath?.(path);
    this.current = path;
  }

  constructor(
    readonly symbols: readonly string[],
    private readonly options: {
      api: BybitApi;
      url: string;
      pollMs: number;
      fallbackAfterMs?: number;
      log: Logger;
      nowMs?: () => number;
      /** Where prices come from now, for /status: the WebSocket, or REST polling while it is down. */
      onPath?: (path: DataPath) => void;
      crossCheck?: {
        readonly everyMs: number;
        readonly onReference: (prices: readonly { symbol: string; price: string }[]) => Promise<void>;
      };
    },
  ) {}

  private crossCheckTimer: NodeJS.Timeout | null = null;

  private armCrossCheck(): void {
    const crossCheck = this.options.crossCheck;
    if (!crossCheck || this.stopped) return;
    this.crossCheckTimer = setTimeout(async () => {
      if (this.current === 'websocket' && this.stream?.status === 'connected') {
        try {
          const tickers = await this.options.api.tickers();
          await crossCheck.onReference(
            tickers
              .filter((t) => this.symbols.includes(t.symbol))
              .map((t) => ({ symbol: t.symbol, price: t.lastPrice })),
          );
        } catch (e) {
          // The REST outage shows in the error rate; the stream goes on being trusted without a second opinion.
          this.options.log.debug(`price cross-check over REST failed: ${(e as Error).message}`);
        }
      }
      this.armCrossCheck();
    }, crossCheck.everyMs);
  }

  start(sink: TickSink): void {
    const now = this.options.nowMs ?? Date.now;
    this.stream = new BybitStream({
      url: this.options.url,
      topics: this.symbols.map((s) => `tickers.${s}`),
      log: this.options.log,
      onMessage: async (m) => {
        const ticker = z.object({ symbol: z.string(), lastPrice: z.string() }).safeParse(m.data);
        if (!ticker.success || !m.topic.startsWith('tickers.')) return;
        const atMs = now();
        this.counter = (this.counter + 1) % 1000;
        const tick: PriceTick = {
          symbol: ticker.data.symbol,
          seq: atMs * 1000 + this.counter,
          price: ticker.data.lastPrice,
          atMs,
        };
        await sink([tick]);
      },
      // A (re)subscription starts from the REST tickers, so a quiet symbol has a price before its first push.
      onSubscribed: () => this.seed(sink),
      onStatus: (status) => this.onStatus(status, sink),
    });
    this.stream.start();
    this.armFallback(sink);
    this.armCrossCheck();
  }

  private async seed(sink: TickSink): Promise<void> {
    const now = this.options.nowMs ?? Date.now;
    const tickers = await this.options.api.tickers();
    const atMs = now();
    this.counter = (this.counter + 1) % 1000;
    await sink(
      tickers
        .filter((t) => this.symbols.includes(t.symbol))
        .map((t) => ({ symbol: t.symbol, seq: atMs * 1000 + this.counter, price: t.lastPrice, atMs })),
    );
  }

  private onStatus(status: StreamStatus, sink: TickSink): void {
    if (status === 'connected') {
      if (this.fallbackTimer) clearTimeout(this.fallbackTimer);
      this.fallbackTimer = null;
      if (this.poller) {
        this.options.log.info('Bybit public stream is back: prices from the WebSocket again');
        void this.poller.stop();
        this.poller = null;
      }
      this.path = 'websocket';
    } else if (status === 'down') {
      this.armFallback(sink);
    }
  }

  private armFallback(sink: TickSink): void {
    if (this.fallbackTimer || this.poller || this.stopped) return;
    this.fallbackTimer = setTimeout(() => {
      this.fallbackTimer = null;
      if (this.stream?.status === 'connected') return;
      this.options.log.warn(
        `Bybit public stream unavailable: polling prices over REST every ${this.options.pollMs} ms`,
      );
      this.path = 'polling';
      this.poller = new TickerPollFeed(this.symbols, {
        api: this.options.api,
        intervalMs: this.options.pollMs,
        log: this.options.log,
      });
      this.poller.start(sink);
    }, this.options.fallbackAfterMs ?? 10_000);
  }

  async stop(): Promise<void> {
    // Stopping takes the stream down, which would arm the fallback again: nothing restarts once stopped.
    this.stopped = true;
    if (this.fallbackTimer) clearTimeout(this.fallbackTimer);
    if (this.crossCheckTimer) clearTimeout(this.crossCheckTimer);
    this.fallbackTimer = null;
    this.crossCheckTimer = null;
    await this.poller?.stop();
    await this.stream?.stop();
  }
}

/**
 * Executions from the private stream (execution.spot), handed to the exchange's listeners; after every
 * (re)subscription the caller reconciles over REST, since Bybit replays nothing. While the stream is down for longer
 * than `fallbackAfterMs`, executions are polled over REST.
 */
export class BybitExecutionFeed {
  private stream: BybitStream | null = null;
  private poller: ExecutionPoller | null = null;
  private fallbackTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private current: DataPath = 'websocket';

  get path(): DataPath {
    return this.current;
  }

  private set path(path: DataPath) {
    if (path !== this.current) this.options.onPath?.(path);
    this.current = path;
  }

  constructor(
    private readonly options: {
      api: BybitApi;
      exchange: BybitExchange;
      url: string;
      apiKey: string;
      apiSecret: string;
      pollMs: number;
      fallbackAfterMs?: number;
      log: Logger;
      reconcile: () => Promise<void>;
      /** Where executions come from now, for /status. */
      onPath?: (path: DataPath) => void;
      /** Balances as Bybit pushes them (coin → wallet balance and locked), for displays. */
      onWallet?: (
        coins: readonly { coin: string; walletBalance: string; locked: string }[],
      ) => Promise<void> | void;
    },
  ) {}

  private reconcileSoon: NodeJS.Timeout | null = null;

  start(): void {
    this.stream = new BybitStream({
      url: this.options.url,
      auth: { apiKey: this.options.apiKey, apiSecret: this.options.apiSecret },
      topics: ['execution.spot', 'order.spot', 'wallet'],
      log: this.options.log,
      onMessage: async (m) => {
        if (m.topic.startsWith('order')) return this.onOrders(m.data);
        if (m.topic === 'wallet') return this.onWallet(m.data);
        if (!m.topic.startsWith('execution')) return;
        const parsed = z.array(BybitExecution).safeParse(m.data);
        if (!parsed.success) {
          this.options.log.warn(`Bybit execution message not understood: ${parsed.error.issues[0]?.message}`);
          return;
        }
        await this.options.exchange.publish(parsed.data);
      },
      onSubscribed: () => this.options.reconcile(),
      onStatus: (status) => {
        if (status === 'connected') {
          if (this.fallbackTimer) clearTimeout(this.fallbackTimer);
          this.fallbackTimer = null;
          if (this.poller) {
            this.options.log.info('Bybit private stream is back: executions from the WebSocket again');
            void this.poller.stop();
            this.poller = null;
          }
          this.path = 'websocket';
        } else if (status === 'down') {
          this.armFallback();
        }
      },
    });
    this.stream.start();
    this.armFallback();
  }

  /**
   * An order Bybit closed without us (cancelled by the exchange, rejected after the async ack): the engine must hear
   * it, but only once its fills, if any, have been applied. So the order stream only asks for a reconcile (soon, once
   * for a burst), which applies missing executions before it marks vanished orders cancelled.
   */
  private onOrders(data: unknown): void {
    const orders = z.array(z.object({ orderLinkId: z.string(), orderStatus: z.string() })).safeParse(data);
    if (!orders.success) return;
    const closed = orders.data.some((o) =>
      ['Cancelled', 'Rejected', 'PartiallyFilledCanceled', 'Deactivated'].includes(o.orderStatus),
    );
    if (!closed || this.reconcileSoon) return;
    this.reconcileSoon = setTimeout(() => {
      this.reconcileSoon = null;
      void this.options.reconcile().catch((e) => this.options.log.warn(`reconcile: ${(e as Error).message}`));
    }, 250);
  }

  private async onWallet(data: unknown): Promise<void> {
    const wallet = z
      .array(
        z.object({
          coin: z.array(z.object({ coin: z.string(), walletBalance: z.string(), locked: z.string() })),
        }),
      )
      .safeParse(data);
    if (wallet.success) await this.options.onWallet?.(wallet.data.flatMap((w) => w.coin));
  }

  private armFallback(): void {
    if (this.fallbackTimer || this.poller || this.stopped) return;
    this.fallbackTimer = setTimeout(() => {
      this.fallbackTimer = null;
      if (this.stream?.status === 'connected') return;
      this.path = 'polling';
      this.poller = new ExecutionPoller({
        api: this.options.api,
        exchange: this.options.exchange,
        intervalMs: this.options.pollMs,
        log: this.options.log,
      });
      this.poller.start();
    }, this.options.fallbackAfterMs ?? 10_000);
  }

  async stop(): Promise<void> {
    // Stopping takes the stream down, which would arm the fallback again: nothing restarts once stopped.
    this.stopped = true;
    if (this.fallbackTimer) clearTimeout(this.fallbackTimer);
    if (this.reconcileSoon) clearTimeout(this.reconcileSoon);
    this.fallbackTimer = null;
    this.reconcileSoon = null;
    await this.poller?.stop();
    await this.stream?.stop();
  }
}
