import { allocateCandles, type CandleSeries } from '../../src/engine/candles.js';
import { toPriceUnits } from '../../src/engine/money.js';

export type CandleRow = readonly [open: string, high: string, low: string, close: string];

/** Candles from decimal strings, one minute apart from 2025-01-01. */
export function candles(rows: readonly CandleRow[]): CandleSeries {
  const out = allocateCandles(rows.length);
  rows.forEach(([o, h, l, c], i) => {
    out.openTimeMs[i] = Date.UTC(2025, 0, 1) + i * 60_000;
    out.open[i] = toPriceUnits(o);
    out.high[i] = toPriceUnits(h);
    out.low[i] = toPriceUnits(l);
    out.close[i] = toPriceUnits(c);
  });
  return out;
}

export const SHARED_DATA = new URL('../../../shared/data/', import.meta.url).pathname;
