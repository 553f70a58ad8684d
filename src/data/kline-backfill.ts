import type { DataSource } from 'typeorm';
import { upsertCandles } from '../db/ohlcv-store.js';
import { Dec } from '../engine/money.js';
import type { BybitApi } from '../exchange/bybit/api.js';
import { ExchangeError } from '../exchange/exchange.js';
import { isKlineInterval, KLINE_INTERVALS, type KlineInterval } from './kline-intervals.js';

export { isKlineInterval, KLINE_INTERVALS, type KlineInterval };

const MINUTE = 60_000;
const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** 1970-01-05 was a Monday. */
const MONDAY = 4 * DAY;
/** Most candles Bybit returns in one call. */
export const KLINE_PAGE_LIMIT = 1000;

/** Open time of the candle of `interval` that contains t. */
export function candleOpenMs(interval: KlineInterval, t: number): number {
  switch (interval) {
    case 'D':
      return Math.floor(t / DAY) * DAY;
    case 'W':
      return Math.floor((t - MONDAY) / WEEK) * WEEK + MONDAY;
    case 'M': {
      const d = new Date(t);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
    default: {
      const ms = Number(interval) * MINUTE;
      return Math.floor(t / ms) * ms;
    }
  }
}

/** Open time of the candle n candles after the one opening at openMs (n = 1: when that one closes). */
export function candleOpenAfter(interval: KlineInterval, openMs: number, n = 1): number {
  switch (interval) {
    case 'D':
      return openMs + n * DAY;
    case 'W':
      return openMs + n * WEEK;
    case 'M': {
      const d = new Date(openMs);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1);
    }
    default:
      return openMs + n * Number(interval) * MINUTE;
  }
}

/** Bybit sent a kline that cannot be a candle: its page is refused and nothing of it is stored. */
export class KlineError extends Error {
  override readonly name = 'KlineError';
}

export interface BackfillRange {
  readonly symbol: string;
  readonly interval: KlineInterval;
  /** Candles opening in [fromMs, toMs) are fetched. */
  readonly fromMs: number;
  readonly toMs: number;
  /** The clock that decides which candle is still open (default Date.now); the exchange's server time is best. */
  readonly nowMs?: number;
}

export interface BackfillResult {
  /** Klines Bybit returned (the still-open candle and any outside the range included). */
  readonly fetched: number;
  /** Closed candles in the range written to `ohlcv` (inserted or overwritten). */
  readonly stored: number;
}

type Kline = [number, string, string, string, string, string];

/**
 * Fetches the closed candles of one symbol and interval opening in [fromMs, toMs) from Bybit's spot kline endpoint
 * and upserts them into `ohlcv`, keyed by (symbol, interval, open_time). It walks forward in windows of at most 1000
 * candles (Bybit answers the newest `limit` of a window, so a wider window would lose its oldest candles), one upsert
 * statement per page. The candle still open at `nowMs` is skipped: it would be stored with a provisional close.
 * Running it again stores the same rows (a later run overwrites a candle with Bybit's current figures).
 */
export async function backfillKlines(
  api: BybitApi,
  ds: DataSource,
  range: BackfillRange,
): Promise<BackfillResult> {
  const { symbol, interval, fromMs, toMs } = range;
  if (!isKlineInterval(interval)) throw new RangeError(`unknown kline interval ${String(interval)}`);
  if (!Number.isSafeInteger(fromMs) || !Number.isSafeInteger(toMs)) {
    throw new RangeError(`fromMs and toMs must be whole milliseconds, got ${fromMs} and ${toMs}`);
  }
  const nowMs = range.nowMs ?? Date.now();
  // Nothing opening at or after `now` can be closed.
  const endMs = Math.min(toMs, nowMs);
  let fetched = 0;
  let stored = 0;
  let cursor = candleOpenMs(interval, fromMs);
  while (cursor < endMs) {
    const pageEnd = Math.min(endMs, candleOpenAfter(interval, cursor, KLINE_PAGE_LIMIT)) - 1;
    const page = await klinesWithRetry(api, symbol, interval, cursor, pageEnd);
    fetched += page.length;
    const checked = new Map<number, Kline>();
    for (const k of page) {
      checkKline(symbol, interval, k);
      if (k[0] < fromMs || k[0] >= toMs) continue;
      if (candleOpenAfter(interval, k[0]) > nowMs) continue; // still open
      checked.set(k[0], k); // one row per open time: an upsert may not touch a row twice
    }
    if (checked.size > 0) stored += await upsertCandles(ds, symbol, interval, [...checked.values()]);
    cursor = pageEnd + 1;
  }
  return { fetched, stored };
}

async function klinesWithRetry(
  api: BybitApi,
  symbol: string,
  interval: KlineInterval,
  startMs: number,
  endMs: number,
): Promise<Kline[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api.klines(symbol, interval, { startMs, endMs, limit: KLINE_PAGE_LIMIT });
    } catch (e) {
      // A read is safe to repeat: wait out a rate limit or a lost answer, a few times.
      if (!(e instanceof ExchangeError) || !e.retryable || attempt >= 4) throw e;
      const waitMs =
        (e.failure.kind === 'rate-limited' ? e.failure.retryAfterMs : undefined) ?? 250 * 2 ** attempt;
      await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, 5000)));
    }
  }
}

const DECIMAL_TEXT = /^(?:0|[1-9]\d*)(?:\.\d+)?$/;

function checkKline(symbol: string, interval: KlineInterval, k: Kline): void {
  const [t, open, high, low, close, volume] = k;
  const at = Number.isSafeInteger(t) && t >= 0 ? new Date(t).toISOString() : `open time ${String(t)}`;
  const refuse = (problem: string): never => {
    throw new KlineError(
      `Bybit sent a bad ${symbol} ${interval} kline at ${at}: ${problem}; its page was refused (nothing of it stored)`,
    );
  };
  if (!Number.isSafeInteger(t) || t < 0) refuse('the open time is not a time');
  const fields = { open, high, low, close, volume };
  for (const [name, text] of Object.entries(fields)) {
    if (!DECIMAL_TEXT.test(text)) refuse(`${name} "${text}" is not a plain non-negative decimal`);
  }
  const o = new Dec(open);
  const h = new Dec(high);
  const l = new Dec(low);
  const c = new Dec(close);
  for (const [name, value] of [
    ['open', o],
    ['high', h],
    ['low', l],
    ['close', c],
  ] as const) {
    if (!value.gt(0)) refuse(`${name} ${fields[name]} is not positive`);
  }
  if (h.lt(o) || h.lt(c)) refuse(`high ${high} is below open ${open} or close ${close}`);
  if (l.gt(o) || l.gt(c)) refuse(`low ${low} is above open ${open} or close ${close}`);
}
