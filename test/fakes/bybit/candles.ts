import type { Decimal } from 'decimal.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** 1970-01-05 was a Monday; Bybit's weekly candles open on Monday 00:00 UTC. */
const MONDAY = 4 * DAY;

export const KLINE_INTERVALS = [
  '1',
  '3',
  '5',
  '15',
  '30',
  '60',
  '120',
  '240',
  '360',
  '720',
  'D',
  'W',
  'M',
] as const;
export type KlineInterval = (typeof KLINE_INTERVALS)[number];

export function isKlineInterval(s: string): s is KlineInterval {
  return (KLINE_INTERVALS as readonly string[]).includes(s);
}

export function bucketStart(interval: KlineInterval, t: number): number {
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

function nextBucket(interval: KlineInterval, start: number): number {
  switch (interval) {
    case 'D':
      return start + DAY;
    case 'W':
      return start + WEEK;
    case 'M': {
      const d = new Date(start);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
    default:
      return start + Number(interval) * MINUTE;
  }
}

export interface Candle {
  start: number;
  open: Decimal;
  high: Decimal;
  low: Decimal;
  close: Decimal;
  /** Base coin traded (fills of this fake). */
  volume: Decimal;
  /** Quote coin traded. */
  turnover: Decimal;
}

/** 1-minute candles of one symbol, built from the prices set on the fake clock; coarser intervals aggregate them. */
export class CandleBook {
  /** Sorted by start. */
  private readonly minutes: Candle[] = [];

  constructor(private readonly zero: Decimal) {}

  /** The price path at time t went through `path` (in order): the minute's high/low/close follow it. */
  touch(t: number, path: readonly Decimal[]): void {
    const first = path[0];
    const last = path[path.length - 1];
    if (first === undefined || last === undefined) return;
    const start = bucketStart('1', t);
    const i = this.lowerBound(start);
    let c = this.minutes[i];
    if (c === undefined || c.start !== start) {
      c = {
        start,
        open: first,
        high: first,
        low: first,
        close: first,
        volume: this.zero,
        turnover: this.zero,
      };
      this.minutes.splice(i, 0, c);
    }
    for (const p of path) {
      if (p.gt(c.high)) c.high = p;
      if (p.lt(c.low)) c.low = p;
    }
    c.close = last;
  }

  /** A fill at time t (the minute is created flat at `price` if nothing happened in it yet). */
  trade(t: number, price: Decimal, qty: Decimal, value: Decimal): void {
    const start = bucketStart('1', t);
    let c = this.minutes[this.lowerBound(start)];
    if (c === undefined || c.start !== start) {
      this.touch(t, [price]);
      c = this.minutes[this.lowerBound(start)]!;
    }
    c.volume = c.volume.add(qty);
    c.turnover = c.turnover.add(value);
  }

  /**
   * Candles of `interval` whose start lies in [bucket(from), to], newest first, at most `limit`. Intervals with no
   * price update are flat at the previous close (as an exchange reports a quiet market); none before the first price.
   */
  candles(interval: KlineInterval, from: number | undefined, to: number, limit: number): Candle[] {
    const first = this.minutes[0];
    if (first === undefined) return [];
    const lowest = Math.max(
      bucketStart(interval, first.start),
      from === undefined ? -Infinity : bucketStart(interval, from),
    );
    const out: Candle[] = [];
    let start = bucketStart(interval, to);
    while (start >= lowest && out.length < limit) {
      const i0 = this.lowerBound(start);
      const i1 = this.lowerBound(nextBucket(interval, start));
      const inside = this.minutes.slice(i0, i1);
      const head = inside[0];
      if (head !== undefined) {
        const c: Candle = { ...head, start };
        for (const m of inside.slice(1)) {
          if (m.high.gt(c.high)) c.high = m.high;
          if (m.low.lt(c.low)) c.low = m.low;
          c.close = m.close;
          c.volume = c.volume.add(m.volume);
          c.turnover = c.turnover.add(m.turnover);
        }
        out.push(c);
      } else {
        const prev = this.minutes[i0 - 1];
        if (prev === undefined) break;
        const p = prev.close;
        out.push({ start, open: p, high: p, low: p, close: p, volume: this.zero, turnover: this.zero });
      }
      start = bucketStart(interval, start - 1);
    }
    return out;
  }

  /** Rolling 24 h figures for the ticker, up to `now`. */
  stats24h(
    now: number,
    last: Decimal,
  ): { prev: Decimal; high: Decimal; low: Decimal; volume: Decimal; turnover: Decimal } {
    const since = now - DAY;
    const i0 = this.lowerBound(since);
    const inside = this.minutes.slice(i0).filter((m) => m.start <= now);
    const before = this.minutes[i0 - 1];
    const prev = before?.close ?? inside[0]?.open ?? last;
    let high = prev;
    let low = prev;
    let volume = this.zero;
    let turnover = this.zero;
    for (const m of inside) {
      if (m.high.gt(high)) high = m.high;
      if (m.low.lt(low)) low = m.low;
      volume = volume.add(m.volume);
      turnover = turnover.add(m.turnover);
    }
    return { prev, high, low, volume, turnover };
  }

  latestStart(): number | undefined {
    return this.minutes[this.minutes.length - 1]?.start;
  }

  private lowerBound(start: number): number {
    let lo = 0;
    let hi = this.minutes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.minutes[mid]!.start < start) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
