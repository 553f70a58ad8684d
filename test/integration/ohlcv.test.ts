import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillKlines } from '../../src/data/kline-backfill.js';
import { openDatabase } from '../../src/db/data-source.js';
import { loadCandles } from '../../src/db/ohlcv-store.js';
import { toPriceUnits } from '../../src/engine/money.js';
import { BybitApi } from '../../src/exchange/bybit/api.js';
import { BybitRestClient } from '../../src/exchange/bybit/rest-client.js';
import { type FakeBybit, startFakeBybit } from '../fakes/bybit/server.js';
import { SHARED_DATA } from '../support/candles.js';
import { createTestDatabase, REDIS_URL, type TestDatabase, testPrefix } from '../support/services.js';

const run = promisify(execFile);
const MINUTE = 60_000;
/** The fake exchange's clock starts here (a Sunday morning, UTC); the tests move it by hand. */
const T0 = Date.UTC(2025, 5, 1, 10, 0, 0);
const DAY = '2025-06-01';
const instrument = (symbol: string, baseCoin: string) => ({
  symbol,
  baseCoin,
  quoteCoin: 'USDT',
  tickSize: '0.01',
  basePrecision: '0.000001',
  minOrderQty: '0.000048',
  minOrderAmt: '5',
});

interface Expected {
  open: string;
  high: string;
  low: string;
  close: string;
}

describe('OHLCV backfill from Bybit into Postgres, and backtests from the store', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let fake: FakeBybit;
  let api: BybitApi;
  let clock = T0;
  const prefix = testPrefix();
  /** The 1-minute candles the prices below make, by open time, worked out here independently of the fake. */
  const expected = new Map<number, Expected>();
  let last: string | undefined;

  /** Sets a price at `clock`; the minute's candle opens at the previous close, as an exchange's does. */
  function price(p: string): void {
    fake.setPrice('BTCUSDT', p);
    const start = Math.floor(clock / MINUTE) * MINUTE;
    const c = expected.get(start);
    const num = (s: string) => Number(s);
    if (c === undefined) {
      const open = last ?? p;
      const [hi, lo] = num(open) >= num(p) ? [open, p] : [p, open];
      expected.set(start, { open, high: hi, low: lo, close: p });
    } else {
      if (num(p) > num(c.high)) c.high = p;
      if (num(p) < num(c.low)) c.low = p;
      c.close = p;
    }
    last = p;
  }

  const count = async (symbol: string) =>
    (
      (await ds.query(`SELECT count(*)::int AS n FROM ohlcv WHERE symbol = $1`, [symbol])) as [{ n: number }]
    )[0].n;

  const env = (extra: Record<string, string> = {}) => ({
    ...process.env,
    DATABASE_URL: db.url,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    BYBIT_REST_URL: fake.url,
    TRADING_MODE: 'paper',
    ...extra,
  });
  const npm = async (script: string, args: string[], extra: Record<string, string> = {}) => {
    try {
      const { stdout, stderr } = await run('npm', ['run', '--silent', script, '--', ...args], {
        env: env(extra),
      });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const f = e as { code: number; stdout: string; stderr: string };
      return { code: f.code, stdout: f.stdout, stderr: f.stderr };
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await openDatabase(db.url, 4);
    fake = await startFakeBybit({
      apiKey: 'k',
      apiSecret: 's',
      instruments: [instrument('BTCUSDT', 'BTC'), instrument('ETHUSDT', 'ETH')],
      balances: {},
      now: () => clock,
    });
    api = new BybitApi(new BybitRestClient({ baseUrl: fake.url, timeoutMs: 5000 }));
    // 50 minutes of BTC, three prices a minute, then one price into minute 50 (still open at the end).
    for (let m = 0; m <= 50; m++) {
      for (const [s, k] of [
        [1, 0],
        [21, 1],
        [41, 2],
      ] as const) {
        if (m === 50 && k > 0) break;
        clock = T0 + m * MINUTE + s * 1000;
        const wiggle = ((m * 37 + k * 11) % 23) - 11;
        price((100_000 + m * 3 + wiggle * 1.25).toFixed(2));
      }
    }
  });
  afterAll(async () => {
    await fake?.close();
    await ds?.destroy();
    await db?.drop();
  });

  it('stores every closed candle once, skips the open one, and loads them back exactly', async () => {
    const range = { symbol: 'BTCUSDT', interval: '1', fromMs: T0 - 3_600_000, toMs: T0 + 3_600_000 } as const;
    const first = await backfillKlines(api, ds, { ...range, nowMs: clock });
    // The fake answers with the open minute 50 too; only minutes 0..49 are closed.
    expect(first).toEqual({ fetched: 51, stored: 50 });
    expect(await count('BTCUSDT')).toBe(50);

    const again = await backfillKlines(api, ds, { ...range, nowMs: clock });
    expect(again).toEqual(first);
    expect(await count('BTCUSDT')).toBe(50);
    const dupes = await ds.query(
      `SELECT open_time FROM ohlcv GROUP BY symbol, "interval", open_time HAVING count(*) > 1`,
    );
    expect(dupes).toEqual([]);

    const candles = await loadCandles(ds, range);
    expect(candles.length).toBe(50);
    const opens = [...expected.keys()].filter((t) => t < T0 + 50 * MINUTE);
    expect([...candles.openTimeMs]).toEqual(opens);
    for (let i = 0; i < candles.length; i++) {
      const e = expected.get(opens[i]!)!;
      expect(
        [candles.open[i], candles.high[i], candles.low[i], candles.close[i]],
        new Date(opens[i]!).toISOString(),
      ).toEqual([toPriceUnits(e.open), toPriceUnits(e.high), toPriceUnits(e.low), toPriceUnits(e.close)]);
    }
    // Stored as Bybit sent them, keyed by the candle's open time.
    const [row] = (await ds.query(
      `SELECT open_time, open::text AS open, close::text AS close FROM ohlcv
       WHERE symbol = 'BTCUSDT' AND "interval" = '1' ORDER BY open_time DESC LIMIT 1`,
    )) as { open_time: Date; open: string; close: string }[];
    expect(row!.open_time.getTime()).toBe(T0 + 49 * MINUTE);
    expect(toPriceUnits(row!.close)).toBe(toPriceUnits(expected.get(T0 + 49 * MINUTE)!.close));

    // A window in the middle: only the candles opening inside it.
    const middle = await loadCandles(ds, { ...range, fromMs: T0 + 10 * MINUTE, toMs: T0 + 20 * MINUTE });
    expect([...middle.openTimeMs]).toEqual(opens.slice(10, 20));
  });

  it('walks forward a page of 1000 candles at a time', async () => {
    // ETH: a price 2500 minutes back and one at T0; the quiet minutes between are flat candles.
    const saved = clock;
    clock = T0 - 2500 * MINUTE;
    fake.setPrice('ETHUSDT', '2500.5');
    clock = T0 + 5 * MINUTE;
    fake.setPrice('ETHUSDT', '2600.25');
    clock = saved;
    const before = fake.requests().filter((r) => r.path.includes('/kline')).length;
    const r = await backfillKlines(api, ds, {
      symbol: 'ETHUSDT',
      interval: '1',
      fromMs: T0 - 3000 * MINUTE,
      toMs: T0 + 3_600_000,
      nowMs: clock,
    });
    // Minutes -2500..49 are closed; 50 is open.
    expect(r).toEqual({ fetched: 2551, stored: 2550 });
    expect(fake.requests().filter((q) => q.path.includes('/kline')).length - before).toBe(4);
    const eth = await loadCandles(ds, { symbol: 'ETHUSDT', interval: '1', fromMs: 0, toMs: T0 + 3_600_000 });
    expect(eth.length).toBe(2550);
    for (let i = 1; i < eth.length; i++) expect(eth.openTimeMs[i]! - eth.openTimeMs[i - 1]!).toBe(MINUTE);
    expect(eth.close[eth.length - 1]).toBe(toPriceUnits('2600.25'));
    // Coarser intervals are stored apart from the 1-minute ones.
    const hourly = await backfillKlines(api, ds, {
      symbol: 'ETHUSDT',
      interval: '60',
      fromMs: T0 - 3000 * MINUTE,
      toMs: T0 + 3_600_000,
      nowMs: clock,
    });
    expect(hourly.stored).toBe(42); // hours -42..-1 closed; hour 0 (10:00-11:00) still open
    expect(await count('ETHUSDT')).toBe(2550 + 42);
  });

  it('refuses a page holding an impossible kline, storing nothing of it', async () => {
    const t = T0 - 7 * 86_400_000;
    const bad = {
      klines: async () => [
        [t, '100', '101', '99', '100.5', '1'],
        [t + MINUTE, '100.5', '100', '99', '100.2', '1'],
      ],
    } as unknown as BybitApi;
    await expect(
      backfillKlines(bad, ds, {
        symbol: 'BTCUSDT',
        interval: '1',
        fromMs: t,
        toMs: t + 2 * MINUTE,
        nowMs: clock,
      }),
    ).rejects.toThrow(/bad BTCUSDT 1 kline at 2025-05-25T10:01:00.000Z: high 100 is below open 100.5/);
    const negative = {
      klines: async () => [[t, '0', '1', '0', '1', '1']],
    } as unknown as BybitApi;
    await expect(
      backfillKlines(negative, ds, {
        symbol: 'BTCUSDT',
        interval: '1',
        fromMs: t,
        toMs: t + MINUTE,
        nowMs: clock,
      }),
    ).rejects.toThrow(/open 0 is not positive/);
    expect(await count('BTCUSDT')).toBe(50);
  });

  it('says what to fetch when the store has nothing for a range', async () => {
    await expect(
      loadCandles(ds, { symbol: 'BTCUSDT', interval: '5', fromMs: T0, toMs: T0 + 86_400_000 }),
    ).rejects.toThrow(
      'no BTCUSDT 5 candles stored from 2025-06-01T10:00:00.000Z to 2025-06-02T10:00:00.000Z; fetch them with: ' +
        'npm run cli -- data fetch --symbol BTCUSDT --interval 5 --from 2025-06-01 --to 2025-06-02',
    );
  });

  it('fills the store from the CLI, and the backtester reads it with --symbol --from --to', async () => {
    // Minute 50 closes: the CLI, on the exchange's clock, stores it as well.
    clock = T0 + 51 * MINUTE + 5000;
    price('100200.5');
    const fetched = await npm('cli', ['data', 'fetch', '--symbol', 'btcusdt', '--days', '1']);
    expect(fetched.stderr).toBe('');
    expect(fetched.code).toBe(0);
    expect(fetched.stdout).toBe(
      'fetched 52 candles, stored 51 (BTCUSDT interval 1, 2025-05-31T10:51Z..2025-06-01T10:51Z)\n',
    );
    // Minutes 0..51 came back; 51 is open. 0..49 were overwritten with the same figures, 50 is new.
    expect(await count('BTCUSDT')).toBe(51);

    const grid = [
      '--lower',
      '99950',
      '--upper',
      '100250',
      '--grids',
      '10',
      '--investment',
      '10000',
      '--tick',
      '0.01',
    ];
    const bt = await npm('backtest', ['--symbol', 'BTCUSDT', '--from', DAY, '--to', DAY, ...grid, '--json']);
    expect(bt.stderr).toBe('');
    expect(bt.code).toBe(0);
    const result = JSON.parse(bt.stdout) as { candles: number; startPrice: string; endPrice: string };
    expect(result.candles).toBe(51);
    expect(toPriceUnits(result.startPrice)).toBe(toPriceUnits(expected.get(T0)!.open));
    expect(toPriceUnits(result.endPrice)).toBe(toPriceUnits(expected.get(T0 + 50 * MINUTE)!.close));

    const summary = await npm('backtest', ['--symbol', 'BTCUSDT', '--from', DAY, '--to', DAY, ...grid]);
    expect(summary.stdout).toMatch(/candles +51\n/);
  });

  it('backtests a stored month exactly as it backtests the same candles from the CSV', async () => {
    const csv = `${SHARED_DATA}BTCUSDT-1m-2025-06.csv.gz`;
    const rows = gunzipSync(readFileSync(csv)).toString().trim().split('\n').slice(1);
    const col = (i: number) => rows.map((r) => r.split(',')[i]);
    await ds.query(
      `INSERT INTO ohlcv (symbol, "interval", open_time, open, high, low, close, volume)
       SELECT 'JUNEUSDT', '1', timestamptz 'epoch' + k.t * interval '1 millisecond', k.o, k.h, k.l, k.c, k.v
       FROM unnest($1::bigint[], $2::numeric[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[])
         AS k(t, o, h, l, c, v)`,
      [col(0), col(1), col(2), col(3), col(4), col(5)],
    );
    const grid = [
      '--lower',
      '100000',
      '--upper',
      '112000',
      '--grids',
      '50',
      '--investment',
      '10000',
      '--json',
    ];
    const stored = await npm('backtest', [
      '--symbol',
      'JUNEUSDT',
      '--from',
      '2025-06-01',
      '--to',
      '2025-06-30',
      ...grid,
    ]);
    const file = await npm('backtest', ['--data', csv, ...grid]);
    expect(stored.code).toBe(0);
    expect(JSON.parse(stored.stdout)).toEqual(JSON.parse(file.stdout));
    expect(JSON.parse(stored.stdout)).toMatchObject({ candles: 43200, startPrice: '104591.88' });
  });

  it('backtests read only: a database that does not exist is not created', async () => {
    const missing = `${db.name}_missing`;
    const url = db.url.replace(db.name, missing);
    const args = ['--symbol', 'ETHUSDT', '--from', DAY, '--to', DAY, '--lower', '1', '--upper', '2'];
    const r = await npm('backtest', [...args, '--grids', '2', '--investment', '10'], { DATABASE_URL: url });
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(
      /^backtest: no ETHUSDT 1 candles stored .*\(the database in DATABASE_URL does not exist yet\); fetch them with: npm run cli -- data fetch --symbol ETHUSDT --interval 1 --from 2025-06-01 --to 2025-06-01\n$/,
    );
    const found = await ds.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [missing]);
    expect(found).toEqual([]);
  });

  const bad: [string, string, string[], RegExp][] = [
    ['cli', 'no symbol', ['data', 'fetch', '--days', '1'], /^gridops: data fetch: --symbol is required\n$/],
    [
      'cli',
      'zero days',
      ['data', 'fetch', '--symbol', 'BTCUSDT', '--days', '0'],
      /--days must be from 1 to 3650/,
    ],
    [
      'cli',
      'days and dates',
      ['data', 'fetch', '--symbol', 'BTCUSDT', '--days', '2', '--from', DAY, '--to', DAY],
      /either --days N or --from\/--to/,
    ],
    [
      'cli',
      'a bad interval',
      ['data', 'fetch', '--symbol', 'BTCUSDT', '--interval', '2'],
      /--interval must be one of/,
    ],
    [
      'cli',
      'a bad date',
      ['data', 'fetch', '--symbol', 'BTCUSDT', '--from', '2025-02-30', '--to', DAY],
      /calendar/,
    ],
    [
      'backtest',
      'neither --data nor --symbol',
      ['--lower', '1', '--upper', '2', '--grids', '2', '--investment', '10'],
      /one of --data FILE or --symbol S .* is required/,
    ],
    [
      'backtest',
      'both --data and --symbol',
      ['--data', 'x.csv', '--symbol', 'BTCUSDT', '--from', DAY, '--to', DAY, '--lower', '1', '--upper', '2'],
      /either --data FILE or --symbol S, not both/,
    ],
    [
      'backtest',
      '--symbol without dates',
      ['--symbol', 'BTCUSDT', '--lower', '1', '--upper', '2', '--grids', '2', '--investment', '10'],
      /--symbol needs --from YYYY-MM-DD and --to YYYY-MM-DD/,
    ],
    [
      'backtest',
      'a range with nothing stored',
      [
        '--symbol',
        'BTCUSDT',
        '--from',
        '2020-01-01',
        '--to',
        '2020-01-31',
        '--lower',
        '1',
        '--upper',
        '2',
        '--grids',
        '2',
        '--investment',
        '10',
      ],
      /no BTCUSDT 1 candles stored .*npm run cli -- data fetch --symbol BTCUSDT --interval 1 --from 2020-01-01 --to 2020-01-31/,
    ],
  ];
  for (const [script, what, args, message] of bad) {
    it(`${script}: ends with exit code 2 and one line on ${what}`, async () => {
      const r = await npm(script, args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    });
  }
});
