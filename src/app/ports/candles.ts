import type { CandleSeries } from '../../engine/candles.js';

/** Stored candles of one symbol and interval opening in [fromMs, toMs). */
export interface CandleRange {
  readonly symbol: string;
  readonly interval: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/** Which candles a backtest runs on: a CSV file (the CLI's --data), or a range of the candle store. */
export type CandleQuery =
  | { readonly kind: 'file'; readonly path: string }
  | ({ readonly kind: 'store' } & CandleRange);

/**
 * Where a backtest's candles come from (src/data implements it over the Postgres store and CSV files). `load` gives
 * at least one candle, in open-time order, or throws a CandlesUnavailable whose message says what to do; anything
 * else it throws is the environment's failure (an unreachable database), not the user's.
 */
export interface CandleSource {
  load(query: CandleQuery): Promise<CandleSeries>;
}

/** No usable candle for the query (none stored, an unreadable or malformed file); the message names the fix. */
export class CandlesUnavailable extends Error {
  override readonly name: string = 'CandlesUnavailable';
}
