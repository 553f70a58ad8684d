/** What a user asks for; every money figure is a decimal string, exactly as typed. */
export interface Instrument {
  readonly tickSize: string;
  readonly qtyStep: string;
  readonly minQty: string;
  readonly minValue: string;
}

export type GridMode = 'arithmetic' | 'geometric';

export interface GridParams {
  readonly lower: string;
  readonly upper: string;
  /** Number of intervals N (there are N + 1 lines). */
  readonly grids: number;
  readonly mode: GridMode;
  /** Quote currency committed to the grid. */
  readonly investment: string;
  readonly makerFee: string;
  readonly takerFee: string;
  readonly instrument: Instrument;
  readonly stopLoss?: string | undefined;
  readonly takeProfit?: string | undefined;
  /** Trailing up (docs/grid-rules.md): the grid follows a rising price one line at a time. Off when absent. */
  readonly trailingUp?: boolean | undefined;
  /** The highest the window's top line may go when trailing up (above upper); no limit when absent. */
  readonly trailingCap?: string | undefined;
  /** The trigger price T0: the grid waits until the price reaches it, then starts with P0 = T0. */
  readonly trigger?: string | undefined;
}

export const MIN_GRIDS = 2;
export const MAX_GRIDS = 500;

/** Bybit's spot BTCUSDT filters at the time of writing: the backtester's defaults. */
export const DEFAULT_INSTRUMENT: Instrument = {
  tickSize: '0.01',
  qtyStep: '0.000001',
  minQty: '0.000048',
  minValue: '1',
};

export const DEFAULT_FEE = '0.001';
