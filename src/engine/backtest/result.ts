import type { BuyFeeIn } from './fees.js';

/** What a backtest reports. Money as exact decimal strings; ratios as numbers. */
export interface BacktestResult {
  readonly candles: number;
  /** Grid buy orders filled (the start buy is not counted). */
  readonly buys: number;
  /** Grid sell orders filled (a stop exit is not counted). */
  readonly sells: number;
  readonly qtyPerGrid: string;
  /** Base bought at start at the start price: (N - k) x q. */
  readonly startBuyQty: string;
  /** Base held at the end, dust included (what buys with their fee in base left below a quantity step). */
  readonly baseQty: string;
  readonly quoteBalance: string;
  readonly fees: string;
  /** Sum of realized profits of completed sells, a stop exit included. */
  readonly gridProfit: string;
  /** gridProfit minus every fee. */
  readonly netProfit: string;
  /** quote + base (dust included) x last close. */
  readonly equity: string;
  readonly investment: string;
  readonly startPrice: string;
  readonly endPrice: string;
  /**
   * Largest fall of equity from its running peak at candle closes, in percent of that peak (peak starts at I).
   * A ratio, not money: computed in double precision (relative error far below 1e-8), not rounded.
   */
  readonly maxDrawdownPct: number;
  readonly levels: readonly string[];
  readonly gapLine: number;
  readonly stopped: StopOutcome | null;
  /** Where buys paid their fee: quote (on top of the notional), or base (out of the coin, as on Bybit spot). */
  readonly buyFeeIn: BuyFeeIn;
  /** Trailing up: how many times the grid moved up one line (0 for a grid that does not trail). */
  readonly trailingShifts: number;
  /** The lowest and highest line of the grid at the end (`levels` are those it started with). */
  readonly finalLower: string;
  readonly finalUpper: string;
  /**
   * With a trigger price: the open time of the candle in which the price reached it, or null if it never did (then
   * every figure is that of the untouched investment). Null as well for a grid without a trigger.
   */
  readonly triggeredAtMs: number | null;
}

export interface StopOutcome {
  readonly reason: 'stop-loss' | 'take-profit';
  readonly price: string;
  readonly candleIndex: number;
  readonly openTimeMs: number;
}

/** Equity and cumulative grid profit sampled along the run, for charts (double precision is fine for a picture). */
export interface EquitySeries {
  readonly openTimeMs: number[];
  readonly equity: number[];
  readonly gridProfit: number[];
}
