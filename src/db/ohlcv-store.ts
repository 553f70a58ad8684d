import type { DataSource } from 'typeorm';
import {
  type CandleQuery,
  type CandleRange,
  type CandleSource,
  CandlesUnavailable,
} from '../app/ports/candles.js';
import { allocateCandles, type CandleSeries, sliceCandles } from '../engine/candles.js';
import { MoneyError, toPriceUnits } from '../engine/money.js';
import { isPgError, PG } from './pg-errors.js';

export type { CandleRange };

/** The store holds no candle in the range asked for (or one that cannot be a price); the message says what to run. */
export class StoredCandlesError extends CandlesUnavailable {
  override readonly name = 'StoredCandlesError';
}

/** The backtests' candle source over the store (`data fetch` fills it); files are the CLI's alone. */
export class StoredCandles implements CandleSource {
  constructor(private readonly ds: DataSource) {}

  load(query: CandleQuery): Promise<CandleSeries> {
    if (query.kind !== 'store')
      return Promise.reject(new CandlesUnavailable('backtests here read stored candles, not files'));
    return loadCandles(this.ds, query);
  }
}

/** Rows read per query: a year of 1-minute candles is read in pieces rather than as 525,600 row objects at once. */
const CHUNK = 50_000;

interface Row {
  t: string;
  o: string;
  h: string;
  l: string;
  c: string;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** "no candles" for a range, with the command that fetches them. */
export function noCandlesMessage(range: CandleRange, why = ''): string {
  const { symbol, interval, fromMs, toMs } = range;
  return (
    `no ${symbol} ${interval} candles stored from ${new Date(fromMs).toISOString()} to ${new Date(toMs).toISOString()}` +
    `${why ? ` (${why})` : ''}; fetch them with: npm run cli -- data fetch --symbol ${symbol} --interval ${interval} ` +
    `--from ${day(fromMs)} --to ${day(toMs - 1)}`
  );
}

/**
 * The stored candles of one symbol and interval opening in [fromMs, toMs), in open-time order, as the engine's
 * CandleSeries (prices in exact price units). Throws a StoredCandlesError naming the range and the fetch command
 * when there are none.
 */
export async function loadCandles(ds: DataSource, range: CandleRange): Promise<CandleSeries> {
  const { symbol, interval, fromMs, toMs } = range;
  let out = allocateCandles(0);
  let n = 0;
  let after = new Date(fromMs - 1).toISOString();
  const to = new Date(toMs).toISOString();
  for (;;) {
    // Keyset pages on the primary key: open_time is whole milliseconds, so "> last" resumes exactly.
    const rows = (await ds
      .query(
        `SELECT (extract(epoch FROM open_time) * 1000)::bigint::text AS t,
              open::text AS o, high::text AS h, low::text AS l, close::text AS c
       FROM ohlcv
       WHERE symbol = $1 AND "interval" = $2 AND open_time > $3::timestamptz AND open_time < $4::timestamptz
       ORDER BY open_time
       LIMIT ${CHUNK}`,
        [symbol, interval, after, to],
      )
      .catch((e: unknown) => {
        // A database nothing has been fetched into may not be migrated yet.
        if (isPgError(e, PG.undefinedTable)) {
          throw new StoredCandlesError(noCandlesMessage(range, 'the database has no ohlcv table yet'));
        }
        throw e;
      })) as Row[];
    if (n + rows.length > out.length) out = grow(out, n, Math.max(n + rows.length, out.length * 2));
    for (const r of rows) {
      const t = Number(r.t);
      out.openTimeMs[n] = t;
      out.open[n] = units(r.o, 'open', symbol, interval, t);
      out.high[n] = units(r.h, 'high', symbol, interval, t);
      out.low[n] = units(r.l, 'low', symbol, interval, t);
      out.close[n] = units(r.c, 'close', symbol, interval, t);
      n++;
    }
    if (rows.length < CHUNK) break;
    after = new Date(out.openTimeMs[n - 1]!).toISOString();
  }
  if (n === 0) {
    throw new StoredCandlesError(noCandlesMessage(range));
  }
  return n === out.length ? out : sliceCandles(out, 0, n);
}

function units(text: string, what: string, symbol: string, interval: string, t: number): number {
  try {
    return toPriceUnits(text, what);
  } catch (e) {
    if (!(e instanceof MoneyError)) throw e;
    throw new StoredCandlesError(
      `stored ${symbol} ${interval} candle at ${new Date(t).toISOString()}: ${e.message}`,
    );
  }
}

function grow(c: CandleSeries, used: number, capacity: number): CandleSeries {
  const next = allocateCandles(capacity);
  next.openTimeMs.set(c.openTimeMs.subarray(0, used));
  next.open.set(c.open.subarray(0, used));
  next.high.set(c.high.subarray(0, used));
  next.low.set(c.low.subarray(0, used));
  next.close.set(c.close.subarray(0, used));
  return next;
}

/** Candles as Bybit sends them (open time ms, open, high, low, close, volume), in one multi-row upsert; returns how
 * many rows it wrote. */
export async function upsertCandles(
  ds: DataSource,
  symbol: string,
  interval: string,
  klines: readonly (readonly [number, string, string, string, string, string])[],
): Promise<number> {
  const rows = (await ds.query(
    `WITH written AS (
       INSERT INTO ohlcv (symbol, "interval", open_time, open, high, low, close, volume)
       SELECT $1, $2, timestamptz 'epoch' + k.t * interval '1 millisecond', k.o, k.h, k.l, k.c, k.v
       FROM unnest($3::bigint[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[], $8::numeric[])
         AS k(t, o, h, l, c, v)
       ON CONFLICT (symbol, "interval", open_time) DO UPDATE
         SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
             volume = EXCLUDED.volume
       RETURNING 1
     )
     SELECT count(*)::int AS n FROM written`,
    [
      symbol,
      interval,
      klines.map((k) => String(k[0])),
      klines.map((k) => k[1]),
      klines.map((k) => k[2]),
      klines.map((k) => k[3]),
      klines.map((k) => k[4]),
      klines.map((k) => k[5]),
    ],
  )) as [{ n: number }];
  return rows[0].n;
}
