/** One price update of one symbol. seq increases per symbol, across restarts too (it is time-based). */
export interface PriceTick {
  readonly symbol: string;
  readonly seq: number;
  readonly price: string;
  readonly atMs: number;
}

export type TickSink = (ticks: readonly PriceTick[]) => Promise<void>;

/** A source of prices: the simulated market, a replayed file, or Bybit's ticker stream. */
export interface MarketFeed {
  readonly symbols: readonly string[];
  /** Where each symbol starts when nothing is known about it yet. */
  start(sink: TickSink, lastPrices: ReadonlyMap<string, string>): void;
  stop(): Promise<void>;
}

/** What the BTC filter judges altcoin buys by: BTC's last hour, from the candles its prices make. */
export const BTC_SYMBOL = 'BTCUSDT';

/**
 * The symbols a feed follows: the traded ones, and BTC whether a grid trades it or not (without its prices the BTC
 * filter would be silently off). A followed-only symbol is not traded: no instrument, no grid, no breaker.
 */
export function followedSymbols(traded: readonly string[]): string[] {
  return traded.includes(BTC_SYMBOL) ? [...traded] : [...traded, BTC_SYMBOL];
}

/** The symbols a feed follows that no grid trades: their prices only inform (the BTC filter, displays). */
export function followedOnly(traded: readonly string[]): ReadonlySet<string> {
  return new Set(followedSymbols(traded).filter((s) => !traded.includes(s)));
}
