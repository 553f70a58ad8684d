import { Dec } from '../engine/money.js';
import { type PreTradeLimits, type PreTradeVerdict, preTradeCheck } from '../engine/risk/pre-trade.js';
import { changePct } from '../engine/risk/rules.js';
import type { Exchange, MarketInstrument } from '../exchange/exchange.js';
import type { LatestPrices, PreTradeBook, PreTradeReads } from './ports/risk.js';

export interface GuardedOrder {
  readonly clientOrderId: string;
  readonly gridId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly purpose: 'grid' | 'start' | 'exit';
  readonly price: string | null;
  readonly qty: string;
}

/**
 * Layer 1: builds what the pre-trade rules need (last price, stop-loss, breakers, BTC's last hour, open orders,
 * position, free balance) for a batch of orders, and judges each. Balances are read once per batch: the exchange
 * still refuses what it cannot fill, this only keeps obviously doomed or dangerous orders home.
 */
export class PreTradeGuard {
  constructor(
    private readonly deps: {
      reads: PreTradeReads;
      prices: LatestPrices;
      exchange: Exchange;
      isKilled: () => Promise<boolean>;
      trippedSymbols: () => Promise<string[]>;
      limits: PreTradeLimits & { readonly btcLookbackMs: number };
    },
  ) {}

  private btcCache: { atMs: number; value: Promise<string | null> } | null = null;

  /**
   * Free balances, read fresh for every batch: a stale snapshot would refuse the sell of base that a fill has just
   * brought (one query on paper, one REST call on Bybit, in parallel with the rest).
   */
  private async balances(): Promise<Map<string, string>> {
    return new Map((await this.deps.exchange.balances()).map((x) => [x.asset, x.free]));
  }

  /** BTC's change over an hour moves slowly: read at most every 10 seconds. */
  private btc(): Promise<string | null> {
    const now = Date.now();
    if (!this.btcCache || now - this.btcCache.atMs > 10_000)
      this.btcCache = { atMs: now, value: this.btcChange() };
    return this.btcCache.value;
  }

  /**
   * Judges a batch of orders. A re-judge of held orders (`rejudge`, on every price of their symbol) reads the balances
   * only when something passes every other rule, and then a read at most a second old: a breaker or the BTC filter
   * holding orders costs no exchange call per price (on Bybit a balance read is a REST call).
   */
  async check(
    orders: readonly GuardedOrder[],
    options: { readonly rejudge?: boolean } = {},
  ): Promise<PreTradeVerdict[]> {
    if (orders.length === 0) return [];
    const { limits } = this.deps;
    const [killed, tripped, free, btc, book, prices] = await Promise.all([
      this.deps.isKilled(),
      this.deps.trippedSymbols(),
      options.rejudge ? null : this.balances(),
      this.btc(),
      this.book([...new Set(orders.map((o) => o.gridId))]),
      this.deps.prices.all(),
    ]);
    const last = new Map(prices.map((p) => [p.symbol, p.price]));
    const openTotal = [...book.openBySymbol.values()].reduce((n, c) => n + c, 0);
    const judge = (balances: ReadonlyMap<string, string> | null) =>
      orders.map((order) => {
        const grid = book.grids.get(order.gridId);
        const price = last.get(order.symbol) ?? null;
        const instrument = this.deps.exchange.instrument(order.symbol) as MarketInstrument | undefined;
        const spends = order.side === 'buy' ? instrument?.quoteAsset : instrument?.baseAsset;
        return preTradeCheck(
          order,
          {
            killed,
            gridRunning: grid?.status === 'running',
            lastPrice: price,
            stopLoss: grid?.stop_loss ?? null,
            volatilityTripped: tripped.includes(order.symbol),
            btcChangePct: order.symbol.startsWith('BTC') ? null : btc,
            openOrdersOnSymbol: book.openBySymbol.get(order.symbol) ?? 0,
            openOrdersTotal: openTotal,
            positionQuote: price
              ? new Dec(book.positions.get(order.symbol) ?? 0).times(price).toFixed()
              : '0',
            freeBalance: balances === null ? null : ((spends && balances.get(spends)) ?? '0'),
          },
          limits,
        );
      });
    if (free) return judge(free);
    const first = judge(null);
    // The balance is the last rule: what failed another one fails it again, with the same reason.
    return first.some((v) => v.ok) ? judge(await this.recentBalances()) : first;
  }

  private recent: { atMs: number; value: Promise<Map<string, string>> } | null = null;

  /**
   * For re-judging held orders only: a second-old read may let an order go that the balance no longer covers, and the
   * exchange then refuses it as it would any order; it never keeps home one that it covers for longer than a second.
   */
  private recentBalances(): Promise<Map<string, string>> {
    const now = Date.now();
    if (!this.recent || now - this.recent.atMs > 1000) {
      const value = this.balances();
      this.recent = { atMs: now, value };
      // A failed read is not kept: the next price reads again.
      value.catch(() => {
        if (this.recent?.value === value) this.recent = null;
      });
    }
    return this.recent.value;
  }

  /** The grids of the orders, and (only when a limit asks for them) open orders and positions: one round trip. */
  private book(gridIds: string[]): Promise<PreTradeBook> {
    const { limits } = this.deps;
    return this.deps.reads.book(gridIds, {
      counts: limits.maxOpenOrdersPerSymbol !== null || limits.maxOpenOrdersTotal !== null,
      positions: limits.maxPositionQuotePerSymbol !== null,
    });
  }

  /**
   * BTC's change over the lookback, from the stored 1-minute candles (the market feed follows BTC whether a grid trades
   * it or not); null when they are not there.
   */
  private async btcChange(): Promise<string | null> {
    const closes = await this.deps.reads.btcCloses(this.deps.limits.btcLookbackMs);
    return closes ? changePct(closes[0], closes[1]) : null;
  }
}
