import { Decimal } from 'decimal.js';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Backtests } from '../../src/app/backtest.js';
import { Reports } from '../../src/app/reports.js';
import { SymbolSuggestions } from '../../src/app/symbols.js';
import { ChatCommands } from '../../src/bot/commands/dispatch.js';
import { discordMessage } from '../../src/bot/discord.js';
import { telegramText } from '../../src/bot/telegram.js';
import { PgAlertStore } from '../../src/db/alert-store.js';
import { PgApiKeyChecks } from '../../src/db/api-key-store.js';
import { PgAuditLog } from '../../src/db/audit-store.js';
import { RedisConfirmations } from '../../src/db/confirmation-store.js';
import { openDatabase } from '../../src/db/data-source.js';
import { TradeOrderId1764600000000 } from '../../src/db/migrations/1764600000000-trade-order-id.js';
import { PgNotifyPrefs } from '../../src/db/notification-store.js';
import { StoredCandles } from '../../src/db/ohlcv-store.js';
import { PgReportStore } from '../../src/db/report-store.js';
import type { GridEvent } from '../../src/engine/grid/events.js';
import { toPriceUnits } from '../../src/engine/money.js';
import { GridEventPayload } from '../../src/jobs/payloads.js';
import { movePrice, settle, startBtcGrid, startTestApp, type TestApp } from '../support/app.js';
import { bearer, HTTP_ENV, READONLY_TOKEN, startTestHttp, type TestHttp } from '../support/http.js';
import { createTestDatabase, databaseBefore, type TestDatabase, testPrefix } from '../support/services.js';

/** RFC 4180, strictly: CRLF ends every record (the last too); a quoted field may hold commas, CR, LF and "" for ". */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote < 0) throw new Error(`unterminated quoted field at ${i}`);
        field += text.slice(i, quote);
        if (text[quote + 1] === '"') {
          field += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`a quote inside an unquoted field at ${i}`);
        field += text[i++];
      }
    }
    record.push(field);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text.slice(i, i + 2) !== '\r\n') throw new Error(`a record not ended by CRLF at ${i}`);
    i += 2;
    records.push(record);
    record = [];
    if (i === text.length) return records;
  }
}

const HEADER = [
  'time',
  'grid',
  'symbol',
  'side',
  'price',
  'qty',
  'fee',
  'fee_coin',
  'net',
  'exec_id',
  'order_id',
  'client_order_id',
];

interface TradeRow {
  exec_id: string;
  exchange_order_id: string | null;
  client_order_id: string;
  grid_id: string;
  symbol: string;
  side: string;
  price: string;
  quantity: string;
  fee: string;
  fee_currency: string;
  net: string;
  executed_at: Date;
}

/**
 * Trades are reconcilable: each fill, in the API, the CSV export and chat, carries the exchange's execution id and
 * order id, our client order id, and its fee with the coin it was taken in, so a user can match it with the exchange's
 * own history and hand it to an accountant.
 */
describe('trades are reconcilable (paper)', () => {
  let db: TestDatabase;
  let app: TestApp;
  let http: TestHttp;
  let gridId: string;

  const get = (path: string, token: string | null = READONLY_TOKEN) =>
    fetch(`${http.url}${path}`, { headers: token ? bearer(token) : {} });
  const tradesInDb = async () =>
    (await app.rt.ds.query(
      `SELECT exec_id, exchange_order_id, client_order_id, grid_id, symbol, side, price::text, quantity::text,
              fee::text, fee_currency, (realized_pnl - fee_quote)::text AS net, executed_at
         FROM trade ORDER BY executed_at, id`,
    )) as TradeRow[];

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp({ databaseUrl: db.url, prefix: testPrefix(), env: HTTP_ENV });
    gridId = await startBtcGrid(app.rt);
    // Down through two buys, back up through their sells (in two steps: a jump of over 5 % waits for confirmation).
    await movePrice(app.rt, 'BTCUSDT', '95500');
    await movePrice(app.rt, 'BTCUSDT', '98000');
    await movePrice(app.rt, 'BTCUSDT', '100500');
    await settle(app.rt);
    http = await startTestHttp(app.rt);
  });
  afterAll(async () => {
    await http?.close();
    await app?.close();
    await db?.drop();
  });

  // Protects: GET /api/trades gives each fill the ids and the fee coin the exchange recorded for it (before, a trade
  // had neither execution nor order id, and its fee coin only as feeCurrency).
  it('every trade in the API carries the execution id, the order id, our client order id, the fee and its coin', async () => {
    const executions = (await app.rt.ds.query(
      `SELECT e.exec_id, e.exchange_order_id, e.client_order_id, e.fee::text, e.fee_currency, o.exchange_order_id AS ours
         FROM paper_execution e JOIN grid_order o USING (client_order_id)`,
    )) as {
      exec_id: string;
      exchange_order_id: string;
      client_order_id: string;
      fee: string;
      fee_currency: string;
      ours: string;
    }[];
    expect(executions.length).toBeGreaterThanOrEqual(5); // the start buy, two buys, two sells
    const res = await get('/api/trades?limit=500');
    expect(res.status).toBe(200);
    const trades = ((await res.json()) as { trades: Record<string, unknown>[] }).trades;
    expect(trades).toHaveLength(executions.length);
    for (const e of executions) {
      const trade = trades.find((t) => t.execId === e.exec_id);
      expect(trade).toMatchObject({
        gridId,
        execId: e.exec_id,
        orderId: e.exchange_order_id,
        clientOrderId: e.client_order_id,
        feeCoin: e.fee_currency,
        feeCurrency: e.fee_currency,
      });
      expect(new Decimal(trade!.fee as string).eq(e.fee)).toBe(true);
      // The order id is the exchange's, the one our order record learned when it was placed.
      expect(e.exchange_order_id).toBe(e.ours);
    }
    expect(new Set(trades.map((t) => t.feeCoin))).toEqual(new Set(executions.map((e) => e.fee_currency)));
  });

  // Protects: the exchange's order id travels with the fill event (a job payload keeps it) and is recorded ahead of
  // whatever our order record says; without it the trade falls back to the order record. Before: no such field.
  it("a fill records the order id its execution reports, ahead of the order's own record", async () => {
    const [order] = (await app.rt.ds.query(
      `SELECT client_order_id, price::text, quantity::text, exchange_order_id FROM grid_order
        WHERE grid_id = $1 AND status = 'placed' AND side = 'buy' ORDER BY price DESC LIMIT 1`,
      [gridId],
    )) as { client_order_id: string; price: string; quantity: string; exchange_order_id: string }[];
    const [{ step }] = (await app.rt.ds.query(
      `SELECT state #>> '{plan,qtyStep}' AS step FROM grid WHERE id = $1`,
      [gridId],
    )) as [{ step: string }];
    const event: GridEvent = {
      kind: 'fill',
      clientOrderId: order!.client_order_id,
      execId: 'reported-exec-1',
      price: toPriceUnits(order!.price),
      lots: new Decimal(order!.quantity).div(step).toNumber(),
      fee: '0.01',
      feeCurrency: 'quote',
      executedAtMs: Date.now(),
      orderId: 'order-as-the-execution-says',
    };
    // As a job carries it: the payload's parser keeps the order id.
    const parsed = GridEventPayload.parse({ gridId, event });
    expect(parsed.event).toMatchObject({ orderId: 'order-as-the-execution-says' });
    await app.rt.processor.apply(gridId, parsed.event as GridEvent);
    await settle(app.rt);
    const [recorded] = (await app.rt.ds.query(
      `SELECT exchange_order_id FROM trade WHERE exec_id = 'reported-exec-1'`,
    )) as { exchange_order_id: string }[];
    expect(recorded?.exchange_order_id).toBe('order-as-the-execution-says');
    expect(order!.exchange_order_id).not.toBe('order-as-the-execution-says');
  });

  // Protects: GET /api/trades.csv exists, is RFC 4180 (CRLF, header, quoting), gives UTC times and exact decimals, and
  // streams in keyset pages that neither repeat nor skip a fill at a page boundary, even among fills sharing a time
  // stored to the microsecond (a cursor kept as a JS Date would repeat them). Before: 404.
  it('GET /api/trades.csv: every trade, oldest first, RFC 4180, UTC times, exact money, streamed by pages', async () => {
    // More fills than one page (1,000): 2,000 of them at one instant with microseconds, across two page boundaries.
    await app.rt.ds.query(
      `INSERT INTO trade (exec_id, grid_id, client_order_id, exchange_order_id, symbol, side, purpose, price, quantity,
                          fee, fee_currency, fee_quote, realized_pnl, executed_at)
       SELECT 'bulk-' || n, $1, 'bulk-order-' || n, CASE WHEN n % 7 = 0 THEN NULL ELSE 'ex-' || n END, 'BTCUSDT',
              CASE WHEN n % 2 = 0 THEN 'buy' ELSE 'sell' END, 'grid', 123456789.123456789, 0.00000001, 0.00000001,
              'BTC', 0.0000012, 0.5, CASE WHEN n <= 2000 THEN timestamptz '2024-03-11 00:00:00.123456+00'
                                          ELSE timestamptz '2024-03-12 00:00:00+00' + n * interval '1 second' END
         FROM generate_series(1, 2345) AS n`,
      [gridId],
    );
    // An id that needs quoting (no exchange sends one, but a field may hold anything), at 19:00 in UTC+1.
    await app.rt.ds.query(
      `INSERT INTO trade (exec_id, grid_id, client_order_id, exchange_order_id, symbol, side, purpose, price, quantity,
                          fee, fee_currency, fee_quote, realized_pnl, executed_at)
       VALUES ($1, $2, 'g1-odd', 'order "7"', 'BTCUSDT', 'sell', 'grid', 100000.5, 0.01, 1.0005, 'USDT', 1.0005, 20,
               '2024-03-10 19:00:00+01')`,
      ['x,"y"\r\nz', gridId],
    );
    const expected = await tradesInDb();
    expect(expected.length).toBeGreaterThan(2346);

    const res = await get('/api/trades.csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="gridops-trades.csv"');
    // Streamed: sent in chunks, its length unknown when it began.
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(res.headers.get('content-length')).toBeNull();
    const text = await res.text();
    expect(text.startsWith(`${HEADER.join(',')}\r\n`)).toBe(true);
    expect(text).toContain(
      `\r\n2024-03-10T18:00:00.000Z,${gridId},BTCUSDT,sell,100000.5,0.01,1.0005,USDT,18.9995,"x,""y""\r\nz","order ""7""",g1-odd\r\n`,
    );
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual(HEADER);
    expect(rows).toHaveLength(expected.length);
    expect(new Set(rows.map((r) => r[9])).size).toBe(rows.length);
    for (const [i, row] of rows.entries()) {
      const t = expected[i]!;
      const [time, grid, symbol, side, price, qty, fee, feeCoin, net, execId, orderId, clientOrderId] = row;
      expect({ time, grid, symbol, side, feeCoin, execId, orderId, clientOrderId }).toEqual({
        time: new Date(t.executed_at).toISOString(),
        grid: t.grid_id,
        symbol: t.symbol,
        side: t.side,
        feeCoin: t.fee_currency,
        execId: t.exec_id,
        orderId: t.exchange_order_id ?? '',
        clientOrderId: t.client_order_id,
      });
      expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      for (const [got, want] of [
        [price, t.price],
        [qty, t.quantity],
        [fee, t.fee],
        [net, t.net],
      ] as const) {
        expect(got).toMatch(/^-?\d+(\.\d+)?$/);
        expect(new Decimal(got!).eq(want)).toBe(true);
      }
    }
    // Exact decimals, no float on the way: 123456789.123456789 and 0.00000001 survive as written.
    expect(rows.find((r) => r[9] === 'bulk-1')!.slice(4, 9)).toEqual([
      '123456789.123456789',
      '0.00000001',
      '0.00000001',
      'BTC',
      '0.4999988',
    ]);

    // Filters: a symbol, and a time range (from inclusive, to exclusive; a date alone is its midnight in UTC).
    const eth = await get('/api/trades.csv?symbol=ethusdt');
    expect(eth.headers.get('content-disposition')).toBe('attachment; filename="gridops-trades-ETHUSDT.csv"');
    expect(await eth.text()).toBe(`${HEADER.join(',')}\r\n`);
    const day = parseCsv(
      await (await get('/api/trades.csv?from=2024-03-10&to=2024-03-11T00:00:00.123456Z')).text(),
    );
    expect(day.slice(1).map((r) => r[9])).toEqual(['x,"y"\r\nz']);
    const later = parseCsv(
      await (await get('/api/trades.csv?from=2024-03-12T00:00:00%2B00:00&to=2024-03-13')).text(),
    );
    expect(later).toHaveLength(1 + 345);
    expect((await get('/api/trades.csv?from=yesterday')).status).toBe(400);
    expect((await get('/api/trades.csv?from=2024-03-12&to=2024-03-11')).status).toBe(400);
    expect((await get('/api/trades.csv', null)).status).toBe(401);

    // Documented in the OpenAPI, as CSV; the trade's ids in its JSON schema.
    const doc = (await (await fetch(`${http.url}/docs/json`)).json()) as {
      paths: Record<string, { get: { responses: Record<string, { content?: Record<string, unknown> }> } }>;
      components: { schemas: Record<string, { required: string[] }> };
    };
    expect(Object.keys(doc.paths['/api/trades.csv']!.get.responses['200']!.content!)).toEqual(['text/csv']);
    expect(doc.components.schemas.Trade!.required).toEqual(
      expect.arrayContaining(['execId', 'orderId', 'clientOrderId', 'fee', 'feeCoin']),
    );
  });

  // Protects: /trades in chat shows each fill's execution id, order id, client order id, fee and fee coin, and a
  // page stays within Discord's 4,096 characters and one Telegram message, going on where it stopped (before: no
  // ids, and a page of 50 was cut off by Discord).
  it('/trades in chat: the ids, the fee and its coin per fill, a page within the message limits', async () => {
    const { ds, redis } = app.rt;
    const instrument = (symbol: string) => app.rt.exchange.instrument(symbol);
    const commands = new ChatCommands({
      grids: app.rt.grids,
      risk: app.rt.risk,
      views: app.rt.views,
      reports: new Reports({
        store: new PgReportStore(ds),
        keyChecks: new PgApiKeyChecks(ds),
        pnl: app.rt.views,
        alerts: new PgAlertStore(ds),
      }),
      backtests: new Backtests({ candles: new StoredCandles(ds), instrument }),
      symbols: new SymbolSuggestions({ market: app.rt.symbols, store: new PgReportStore(ds) }),
      market: app.rt.market,
      prices: app.rt.prices,
      instrument,
      audit: new PgAuditLog(ds),
      confirmations: new RedisConfirmations(redis, app.rt.config.QUEUE_PREFIX),
      prefs: new PgNotifyPrefs(ds),
      mode: 'paper',
      version: 'test',
      roles: { telegram: { operators: ['1'], readonly: [] }, discord: { operators: [], readonly: ['2'] } },
      nowMs: Date.now,
    });
    const [newest] = await app.rt.views.trades(1);
    const page = await commands.run({ transport: 'telegram', userId: '1' }, 'trades', ['50']);
    expect(page.lines[0]).toContain(`fee ${newest!.fee} ${newest!.feeCoin}`);
    expect(page.lines[1]).toBe(
      `   exec ${newest!.execId} · order ${newest!.orderId ?? '–'} · client ${newest!.clientOrderId}`,
    );
    const shown = page.lines.length / 2;
    expect(shown).toBeGreaterThan(5);
    expect(shown).toBeLessThan(50);
    expect(page.title).toBe(`Trades 1–${shown}`);
    expect(telegramText(page)).toHaveLength(1);
    expect(discordMessage(page).embeds[0]!.data.description!.endsWith('…')).toBe(false);
    const older = page.buttons!.find((b) => b.label === 'Older ›')!;
    expect(older.data).toBe(`pg:trades:50:${shown}`);
    const next = await commands.press({ transport: 'discord', userId: '2' }, older.data);
    expect(next.title).toMatch(new RegExp(`^Trades ${shown + 1}–`));
    const all = await app.rt.views.trades(shown + 1);
    expect(next.lines[1]).toContain(`exec ${all[shown]!.execId} `);
  });
});

// Protects: the migration gives old trades the exchange's order id: from the exchange's record of the execution where
// there is one (paper), else from their order, else none; and a new trade without one falls back to its order's.
describe('migration 1764600000000: trade.exchange_order_id', () => {
  let db: TestDatabase;
  let ds: DataSource | null = null;
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('backfills old trades from the execution, else from the order; null when neither knows', async () => {
    db = await createTestDatabase();
    const before = await databaseBefore(db.url, TradeOrderId1764600000000);
    await before.query(
      `INSERT INTO grid (id, name, symbol, lower, upper, grid_count, mode, investment, maker_fee, taker_fee, status,
                         source, state, quote_balance)
       VALUES ('g1', 'old', 'BTCUSDT', 90000, 110000, 10, 'arithmetic', 1000, 0.001, 0.001, 'running', 'cli', '{}', 1000)`,
    );
    await before.query(
      `INSERT INTO grid_order (client_order_id, grid_id, symbol, side, type, purpose, price, quantity, status,
                               exchange_order_id)
       VALUES ('g1-1-1', 'g1', 'BTCUSDT', 'buy', 'limit', 'grid', 98000, 0.001, 'filled', 'ours-1'),
              ('g1-2-1', 'g1', 'BTCUSDT', 'buy', 'limit', 'grid', 96000, 0.001, 'filled', 'ours-2'),
              ('g1-3-1', 'g1', 'BTCUSDT', 'buy', 'limit', 'grid', 94000, 0.001, 'filled', NULL)`,
    );
    await before.query(
      `INSERT INTO paper_order (client_order_id, exchange_order_id, symbol, side, type, price, quantity, status)
       VALUES ('g1-1-1', 'paper-1', 'BTCUSDT', 'buy', 'limit', 98000, 0.001, 'filled')`,
    );
    await before.query(
      `INSERT INTO paper_execution (exec_id, client_order_id, exchange_order_id, symbol, side, price, quantity, fee,
                                    fee_currency, is_maker, executed_at)
       VALUES ('g1-1-1-f', 'g1-1-1', 'paper-1', 'BTCUSDT', 'buy', 98000, 0.001, 0.000001, 'BTC', true, now())`,
    );
    await before.query(
      `INSERT INTO trade (exec_id, grid_id, client_order_id, symbol, side, purpose, price, quantity, fee, fee_currency,
                          fee_quote, realized_pnl, executed_at)
       SELECT e, 'g1', c, 'BTCUSDT', 'buy', 'grid', 98000, 0.001, 0.098, 'USDT', 0.098, 0, now()
         FROM (VALUES ('g1-1-1-f', 'g1-1-1'), ('bybit-2', 'g1-2-1'), ('bybit-3', 'g1-3-1'), ('bybit-4', 'g9-9-9'))
              AS v(e, c)`,
    );
    await before.destroy();

    ds = await openDatabase(db.url, 2);
    const rows = (await ds.query(`SELECT exec_id, exchange_order_id FROM trade ORDER BY exec_id`)) as {
      exec_id: string;
      exchange_order_id: string | null;
    }[];
    expect(rows).toEqual([
      { exec_id: 'bybit-2', exchange_order_id: 'ours-2' },
      { exec_id: 'bybit-3', exchange_order_id: null },
      { exec_id: 'bybit-4', exchange_order_id: null },
      { exec_id: 'g1-1-1-f', exchange_order_id: 'paper-1' },
    ]);
    const indexes = (await ds.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'trade'`)) as {
      indexname: string;
    }[];
    expect(indexes.map((i) => i.indexname)).toContain('trade_time_id');
  });
});
