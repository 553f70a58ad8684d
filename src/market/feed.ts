/** One price update of one symbol. seq increases per symbol, across restarts too (it is time-based). */
export interface PriceTick {
  readonly symbol: string;
  readonly seq: number;
  readonly price: string;
  readonly atMs: number;
}

export type TickSink = (ticks: readonly PriceTick[]) => Promise<void>;

/** A source of prices: the simulated market, a replayed file, or (later) an exchange stream. */
export interface MarketFeed {
  readonly symbols: readonly string[];
  /** Where each symbol starts when nothing is known about it yet. */
  start(sink: TickSink, lastPrices: ReadonlyMap<string, string>): void;
  stop(): Promise<void>;
}
