/**
 * What the app records of the market's side of trading: how far it has read the exchange's executions, which of them
 * are trades already, the symbols' positions, and the 1-minute closes of the prices it sees (positions are marked at
 * the latest).
 */
export interface TradeStore {
  /** Where reading the executions stream named `name` goes on from; null from the start. */
  executionCursor(name: string): Promise<string | null>;
  advanceExecutionCursor(name: string, value: string): Promise<void>;
  /** Those of `execIds` already recorded as trades. */
  recordedExecIds(execIds: readonly string[]): Promise<Set<string>>;
  /**
   * Recomputes the symbol's position from its grids, marked at the latest 1-minute close the app has seen, or at
   * `fallbackPrice` when it has seen none.
   */
  refreshPosition(symbol: string, fallbackPrice: string): Promise<void>;
  /** Folds a price into the symbol's 1-minute candle starting at `minute`. */
  recordPrice(symbol: string, minute: Date, price: string): Promise<void>;
}
