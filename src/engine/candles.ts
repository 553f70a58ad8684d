/**
 * A candle series in columns of price units (see money.ts), so the backtest loop reads typed arrays and never parses
 * or allocates. openTimeMs is kept as a double: milliseconds since the epoch are exact integers in it.
 */
export interface CandleSeries {
  readonly length: number;
  readonly openTimeMs: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
}

export function allocateCandles(capacity: number): CandleSeries {
  return {
    length: capacity,
    openTimeMs: new Float64Array(capacity),
    open: new Float64Array(capacity),
    high: new Float64Array(capacity),
    low: new Float64Array(capacity),
    close: new Float64Array(capacity),
  };
}

export function sliceCandles(c: CandleSeries, start: number, end: number): CandleSeries {
  const from = Math.max(0, Math.min(start, c.length));
  const to = Math.max(from, Math.min(end, c.length));
  return {
    length: to - from,
    openTimeMs: c.openTimeMs.subarray(from, to),
    open: c.open.subarray(from, to),
    high: c.high.subarray(from, to),
    low: c.low.subarray(from, to),
    close: c.close.subarray(from, to),
  };
}

/**
 * The normative price path of one candle: O→L→H→C when C ≥ O, else O→H→L→C. The path is continuous across candles,
 * so the previous close → this open is a segment too (the caller walks it first).
 */
export function candlePath(
  open: number,
  high: number,
  low: number,
  close: number,
): [number, number, number, number] {
  return close >= open ? [open, low, high, close] : [open, high, low, close];
}
