import { request as httpRequest } from 'node:http';
import { RestClientV5 } from 'bybit-api';
import { Decimal } from 'decimal.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  bybitSign,
  bybitSignString,
  type FakeBybit,
  type FakeBybitExecution,
  type FakeBybitOptions,
  type FakeBybitOrder,
  startFakeBybit,
} from '../../fakes/bybit/server.js';

const KEY = 'fake-key';
const SECRET = 'fake-secret';

function options(overrides: Partial<FakeBybitOptions> = {}): FakeBybitOptions {
  return {
    apiKey: KEY,
    apiSecret: SECRET,
    instruments: [
      {
        symbol: 'BTCUSDT',
        baseCoin: 'BTC',
        quoteCoin: 'USDT',
        tickSize: '0.01',
        basePrecision: '0.000001',
        minOrderQty: '0.000048',
        minOrderAmt: '5',
      },
      {
        symbol: 'ETHUSDT',
        baseCoin: 'ETH',
        quoteCoin: 'USDT',
        tickSize: '0.01',
        basePrecision: '0.00001',
        minOrderQty: '0.00062',
        minOrderAmt: '5',
      },
    ],
    balances: { USDT: '100000', BTC: '1' },
    ...overrides,
  };
}

interface Envelope<T = Record<string, unknown>> {
  retCode: number;
  retMsg: string;
  result: T;
  retExtInfo: Record<string, unknown>;
  time: number;
}

interface CallOptions {
  key?: string;
  secret?: string;
  timestamp?: number;
  recvWindow?: string;
}

/** A signed call as Bybit's docs describe it (the same string is signed and sent). */
async function call<T = Record<string, unknown>>(
  fake: FakeBybit,
  method: 'GET' | 'POST',
  path: string,
  params: Record<string, unknown>,
  opts: CallOptions = {},
): Promise<{ status: number; headers: Headers; text: string; body: Envelope<T> | null }> {
  const key = opts.key ?? KEY;
  const ts = String(opts.timestamp ?? Date.now());
  const recv = opts.recvWindow ?? '5000';
  const query =
    method === 'GET'
      ? Object.entries(params)
          .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
          .join('&')
      : '';
  const body = method === 'POST' ? JSON.stringify(params) : undefined;
  const sign = bybitSign(
    opts.secret ?? SECRET,
    bybitSignString(ts, key, recv, method === 'GET' ? query : body!),
  );
  const res = await fetch(`${fake.url}${path}${query ? `?${query}` : ''}`, {
    method,
    headers: {
      'X-BAPI-API-KEY': key,
      'X-BAPI-TIMESTAMP': ts,
      'X-BAPI-RECV-WINDOW': recv,
      'X-BAPI-SIGN': sign,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  let parsed: Envelope<T> | null = null;
  try {
    parsed = JSON.parse(text) as Envelope<T>;
  } catch {
    parsed = null;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

async function publicGet<T = Record<string, unknown>>(fake: FakeBybit, path: string): Promise<Envelope<T>> {
  const res = await fetch(`${fake.url}${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Envelope<T>;
}

function limitBuy(orderLinkId: string, qty: string, price: string, symbol = 'BTCUSDT') {
  return { category: 'spot', symbol, side: 'Buy', orderType: 'Limit', qty, price, orderLinkId };
}

function limitSell(orderLinkId: string, qty: string, price: string) {
  return { category: 'spot', symbol: 'BTCUSDT', side: 'Sell', orderType: 'Limit', qty, price, orderLinkId };
}

async function retCodeOf(p: ReturnType<typeof call>): Promise<number | undefined> {
  return (await p).body?.retCode;
}

const dec = (s: string | undefined) => new Decimal(s ?? 'NaN');

describe('fake Bybit: signing as the official SDK does it', () => {
  let fake: FakeBybit;
  beforeAll(async () => {
    fake = await startFakeBybit(options());
    fake.setPrice('BTCUSDT', '50000');
  });
  afterAll(() => fake.close());

  it('accepts the SDK on wallet, create, open orders and cancel', async () => {
    const client = new RestClientV5({ key: KEY, secret: SECRET, baseUrl: fake.url });
    const wallet = await client.getWalletBalance({ accountType: 'UNIFIED' });
    expect(wallet.retCode).toBe(0);
    const usdt = wallet.result.list[0]?.coin.find((c) => c.coin === 'USDT');
    expect(usdt?.walletBalance).toBe('100000');

    const created = await client.submitOrder({
      category: 'spot',
      symbol: 'BTCUSDT',
      side: 'Buy',
      orderType: 'Limit',
      qty: '0.001',
      price: '49000',
      orderLinkId: 'sdk-order-1',
    });
    expect(created.retCode).toBe(0);
    expect(created.result.orderLinkId).toBe('sdk-order-1');

    const open = await client.getActiveOrders({
      category: 'spot',
      symbol: 'BTCUSDT',
      orderLinkId: 'sdk-order-1',
    });
    expect(open.retCode).toBe(0);
    expect(open.result.list.map((o) => o.orderId)).toEqual([created.result.orderId]);
    expect(open.result.list[0]?.orderStatus).toBe('New');

    const cancelled = await client.cancelOrder({
      category: 'spot',
      symbol: 'BTCUSDT',
      orderId: created.result.orderId,
    });
    expect(cancelled.retCode).toBe(0);
    expect(fake.orders().find((o) => o.orderLinkId === 'sdk-order-1')?.orderStatus).toBe('Cancelled');
  });

  it('answers 10004 to a wrong secret and 10003 to a wrong key', async () => {
    const badSecret = new RestClientV5({ key: KEY, secret: 'not-the-secret', baseUrl: fake.url });
    const r1 = await badSecret.getWalletBalance({ accountType: 'UNIFIED' });
    expect(r1.retCode).toBe(10004);
    expect(r1.retMsg.startsWith('Error sign, please check your signature generation algorithm')).toBe(true);
    const r2 = await badSecret.getActiveOrders({ category: 'spot' });
    expect(r2.retCode).toBe(10004);

    const badKey = new RestClientV5({ key: 'not-the-key', secret: SECRET, baseUrl: fake.url });
    expect((await badKey.getWalletBalance({ accountType: 'UNIFIED' })).retCode).toBe(10003);
  });
});

describe('fake Bybit: signature vector, time window, HTTP-level refusals', () => {
  const T0 = 1_700_000_000_000;
  let clock = T0;
  let fake: FakeBybit;
  beforeAll(async () => {
    fake = await startFakeBybit(options({ apiKey: 'test-key', apiSecret: 'test-secret', now: () => clock }));
  });
  afterEach(() => {
    clock = T0;
  });
  afterAll(() => fake.close());

  it('computes the protocols.md 1.2 test vector', () => {
    const vector = '0048edf42c4979197cec265d4f090ffe6c30d7dec8782e4e6a26b51c2703cbf9';
    const origin = bybitSignString('1700000000000', 'test-key', '5000', 'category=spot&symbol=BTCUSDT');
    expect(origin).toBe('1700000000000test-key5000category=spot&symbol=BTCUSDT');
    expect(bybitSign('test-secret', origin)).toBe(vector);
  });

  it('verifies the vector on the wire', async () => {
    const res = await fetch(`${fake.url}/v5/order/realtime?category=spot&symbol=BTCUSDT`, {
      headers: {
        'X-BAPI-API-KEY': 'test-key',
        'X-BAPI-TIMESTAMP': '1700000000000',
        'X-BAPI-RECV-WINDOW': '5000',
        'X-BAPI-SIGN': '0048edf42c4979197cec265d4f090ffe6c30d7dec8782e4e6a26b51c2703cbf9',
      },
    });
    const body = (await res.json()) as Envelope;
    expect(body.retCode).toBe(0);
    expect(res.headers.get('x-bapi-limit')).toBe('50');
  });

  it('applies server_time - recv_window <= timestamp < server_time + 1000', async () => {
    const auth = { key: 'test-key', secret: 'test-secret' };
    const get = (timestamp: number) =>
      call(fake, 'GET', '/v5/account/wallet-balance', { accountType: 'UNIFIED' }, { ...auth, timestamp });
    expect((await get(T0 - 5000)).body?.retCode).toBe(0);
    expect((await get(T0 + 999)).body?.retCode).toBe(0);
    const late = await get(T0 - 5001);
    expect(late.status).toBe(200);
    expect(late.body?.retCode).toBe(10002);
    expect(late.body?.retMsg).toBe(
      `invalid request, please check your server timestamp or recv_window param. req_timestamp[${T0 - 5001}],server_timestamp[${T0}],recv_window[5000]`,
    );
    expect((await get(T0 + 1000)).body?.retCode).toBe(10002);
    clock = T0 + 60_000;
    expect((await get(T0)).body?.retCode).toBe(10002);
    expect(
      (
        await call(
          fake,
          'GET',
          '/v5/account/wallet-balance',
          { accountType: 'UNIFIED' },
          {
            ...auth,
            timestamp: T0 + 30_000,
            recvWindow: '40000',
          },
        )
      ).body?.retCode,
    ).toBe(0);
  });

  it('answers HTTP 401 without auth headers and HTTP 403 to a GET with a body', async () => {
    const res = await fetch(`${fake.url}/v5/order/realtime?category=spot`);
    expect(res.status).toBe(401);
    await res.text();
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${fake.url}/v5/market/time`,
        { method: 'GET', headers: { 'Content-Type': 'application/json', 'Content-Length': '2' } },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    expect(status).toBe(403);
    const time = await publicGet<{ timeSecond: string; timeNano: string }>(fake, '/v5/market/time');
    expect(time.result).toEqual({ timeSecond: '1700000000', timeNano: '1700000000000000000' });
    expect(time.time).toBe(T0);
  });

  it('builds 1-minute klines newest first from setPrice on the fake clock', async () => {
    const t = 1_700_000_040_000; // a minute boundary
    clock = t;
    fake.setPrice('BTCUSDT', '100');
    clock = t + 60_000;
    fake.setPrice('BTCUSDT', '110');
    clock = t + 90_000;
    fake.setPrice('BTCUSDT', '105');
    clock = t + 150_000;
    const k = await publicGet<{ list: string[][] }>(
      fake,
      '/v5/market/kline?category=spot&symbol=BTCUSDT&interval=1',
    );
    expect(k.retCode).toBe(0);
    expect(k.result.list).toEqual([
      [String(t + 120_000), '105', '105', '105', '105', '0', '0'],
      [String(t + 60_000), '100', '110', '100', '105', '0', '0'],
      [String(t), '100', '100', '100', '100', '0', '0'],
    ]);
    const linear = await publicGet(fake, '/v5/market/kline?symbol=BTCUSDT&interval=1');
    expect(linear.retCode).toBe(10001);
    const tickers = await publicGet<{ list: { lastPrice: string }[] }>(
      fake,
      '/v5/market/tickers?category=spot',
    );
    expect(tickers.result.list.map((x) => x.lastPrice)).toEqual(['105']);
  });
});

describe('fake Bybit: orders, fills and fees', () => {
  let fake: FakeBybit;
  const create = (params: Record<string, unknown>) => call(fake, 'POST', '/v5/order/create', params);
  beforeAll(async () => {
    fake = await startFakeBybit(options());
    fake.setPrice('BTCUSDT', '50000');
  });
  afterAll(() => fake.close());

  it('lists instruments with Bybit filters', async () => {
    const info = await publicGet<{ list: Record<string, unknown>[] }>(
      fake,
      '/v5/market/instruments-info?category=spot&symbol=BTCUSDT',
    );
    expect(info.result.list).toHaveLength(1);
    expect(info.result.list[0]).toMatchObject({
      symbol: 'BTCUSDT',
      baseCoin: 'BTC',
      quoteCoin: 'USDT',
      status: 'Trading',
      lotSizeFilter: { basePrecision: '0.000001', minOrderQty: '0.000048', minOrderAmt: '5' },
      priceFilter: { tickSize: '0.01' },
    });
  });

  it('rejects what Bybit rejects, with its codes', async () => {
    expect(await retCodeOf(create(limitBuy('off-tick', '0.001', '49000.005')))).toBe(170134);
    expect(await retCodeOf(create(limitBuy('off-step', '0.0000001', '49000')))).toBe(170137);
    expect(await retCodeOf(create(limitBuy('too-small', '0.0001', '40000')))).toBe(170140);
    expect(await retCodeOf(create(limitBuy('too-big', '10', '40000')))).toBe(170131);
    expect(await retCodeOf(create(limitSell('no-coins', '2', '60000')))).toBe(170131);
    expect(await retCodeOf(create(limitBuy('unknown', '1', '1', 'XYZUSDT')))).toBe(170121);
    expect(await retCodeOf(create(limitBuy('x'.repeat(37), '0.001', '49000')))).toBe(10001);
    expect(await retCodeOf(create(limitBuy('bad id!', '0.001', '49000')))).toBe(10001);
    expect(
      await retCodeOf(
        create({ ...limitBuy('no-price-yet', '1', '0'), symbol: 'ETHUSDT', orderType: 'Market' }),
      ),
    ).toBe(10001);
    // A market Buy's qty is quote coin by default: 4 USDT is below minOrderAmt, 10 USDT is not.
    const marketBuy = { category: 'spot', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market' };
    expect(await retCodeOf(create({ ...marketBuy, qty: '4', orderLinkId: 'mkt-small' }))).toBe(170140);
    expect(await retCodeOf(create({ ...marketBuy, qty: '10', orderLinkId: 'mkt-ok' }))).toBe(0);
    expect(fake.orders().map((o) => o.orderLinkId)).toEqual(['mkt-ok']);

    expect(await retCodeOf(create(limitBuy('dup-1', '0.001', '49000')))).toBe(0);
    expect(await retCodeOf(create(limitBuy('dup-1', '0.001', '49000')))).toBe(170141);
    const cancel = (p: Record<string, unknown>) => call(fake, 'POST', '/v5/order/cancel', p);
    expect(await retCodeOf(cancel({ category: 'spot', symbol: 'BTCUSDT', orderLinkId: 'dup-1' }))).toBe(0);
    expect(await retCodeOf(cancel({ category: 'spot', symbol: 'BTCUSDT', orderLinkId: 'dup-1' }))).toBe(
      170213,
    );
    expect(await retCodeOf(cancel({ category: 'spot', symbol: 'BTCUSDT', orderId: '123' }))).toBe(170213);
    // Any order ever placed keeps its orderLinkId.
    expect(await retCodeOf(create(limitBuy('dup-1', '0.001', '49000')))).toBe(170141);
  });

  it('fills a resting buy at its own price when the price walks down; the fee is paid in base', async () => {
    const before = fake.balances();
    const placed = await create(limitBuy('grid-buy-1', '0.01', '49000'));
    expect(placed.body?.retCode).toBe(0);
    expect(placed.headers.get('x-bapi-limit')).toBe('20');
    expect(fake.balances().USDT?.locked).toBe('490.49'); // 490 + taker fee, to be safe
    fake.setPrice('BTCUSDT', '49500');
    expect(fake.executions().filter((e) => e.orderLinkId === 'grid-buy-1')).toEqual([]);
    fake.setPrice('BTCUSDT', '48000');

    const fills = fake.executions().filter((e) => e.orderLinkId === 'grid-buy-1');
    expect(fills).toHaveLength(1);
    expect(fills[0]).toMatchObject({
      side: 'Buy',
      execPrice: '49000',
      execQty: '0.01',
      execValue: '490',
      execFee: '0.00001',
      feeCurrency: 'BTC',
      feeRate: '0.001',
      isMaker: true,
      execType: 'Trade',
      orderType: 'Limit',
      leavesQty: '0',
    } satisfies Partial<FakeBybitExecution>);
    const after = fake.balances();
    expect(dec(after.BTC?.walletBalance).sub(dec(before.BTC?.walletBalance)).toString()).toBe('0.00999');
    expect(dec(before.USDT?.walletBalance).sub(dec(after.USDT?.walletBalance)).toString()).toBe('490');
    expect(after.USDT?.locked).toBe('0');

    const order = fake.orders().find((o) => o.orderLinkId === 'grid-buy-1');
    expect(order).toMatchObject({
      orderStatus: 'Filled',
      cumExecQty: '0.01',
      cumExecValue: '490',
      leavesQty: '0',
      avgPrice: '49000',
      cumFeeDetail: { BTC: '0.00001' },
    } satisfies Partial<FakeBybitOrder>);

    const listed = await call<{ list: FakeBybitExecution[] }>(fake, 'GET', '/v5/execution/list', {
      category: 'spot',
      orderLinkId: 'grid-buy-1',
    });
    expect(listed.body?.result.list).toEqual(fills);
  });

  it('fills a resting sell when the price walks up; the fee is paid in quote', async () => {
    const before = fake.balances();
    expect((await create(limitSell('grid-sell-1', '0.005', '51000'))).body?.retCode).toBe(0);
    expect(fake.balances().BTC?.locked).toBe('0.005');
    fake.setPrice('BTCUSDT', '52000');
    const fill = fake.executions().find((e) => e.orderLinkId === 'grid-sell-1');
    expect(fill).toMatchObject({ execPrice: '51000', execFee: '0.255', feeCurrency: 'USDT', isMaker: true });
    const after = fake.balances();
    expect(dec(after.USDT?.walletBalance).sub(dec(before.USDT?.walletBalance)).toString()).toBe('254.745');
    expect(dec(before.BTC?.walletBalance).sub(dec(after.BTC?.walletBalance)).toString()).toBe('0.005');
    expect(after.BTC?.locked).toBe('0');
  });

  it('fills the orders a fall crosses in path order, and a crossing limit at once as taker', async () => {
    fake.setPrice('BTCUSDT', '50000');
    for (const [id, price] of [
      ['walk-46k', '46000'],
      ['walk-47k', '47000'],
      ['walk-44k', '44000'],
    ] as const) {
      expect((await create(limitBuy(id, '0.001', price))).body?.retCode).toBe(0);
    }
    fake.setPrice('BTCUSDT', '45000');
    const walked = fake.executions().filter((e) => e.orderLinkId.startsWith('walk-'));
    expect(walked.map((e) => e.orderLinkId)).toEqual(['walk-47k', 'walk-46k']);
    expect(walked[0]!.seq).toBeLessThan(walked[1]!.seq);

    expect((await create(limitBuy('taker-1', '0.001', '45100'))).body?.retCode).toBe(0);
    expect(fake.executions().find((e) => e.orderLinkId === 'taker-1')).toMatchObject({
      execPrice: '45100',
      isMaker: false,
      feeCurrency: 'BTC',
    });

    const open = await call<{ list: FakeBybitOrder[]; nextPageCursor: string }>(
      fake,
      'GET',
      '/v5/order/realtime',
      {
        category: 'spot',
        symbol: 'BTCUSDT',
        limit: 1,
      },
    );
    expect(open.body?.result.list.map((o) => o.orderLinkId)).toEqual(['walk-44k']);
    expect(open.body?.result.nextPageCursor).toBe('');
  });

  it('places batches with per-order codes and cancels all', async () => {
    const batch = await call<{ list: { orderLinkId: string; orderId: string }[] }>(
      fake,
      'POST',
      '/v5/order/create-batch',
      {
        category: 'spot',
        request: [
          {
            symbol: 'BTCUSDT',
            side: 'Buy',
            orderType: 'Limit',
            qty: '0.001',
            price: '40000',
            orderLinkId: 'b-1',
          },
          {
            symbol: 'BTCUSDT',
            side: 'Buy',
            orderType: 'Limit',
            qty: '0.001',
            price: '40000.001',
            orderLinkId: 'b-2',
          },
        ],
      },
    );
    expect(batch.body?.retCode).toBe(0);
    expect(batch.body?.retExtInfo.list).toEqual([
      { code: 0, msg: 'OK' },
      { code: 170134, msg: 'Order price decimal too long.' },
    ]);
    expect(batch.body?.result.list.map((o) => o.orderLinkId)).toEqual(['b-1', 'b-2']);
    const all = await call<{ list: { orderLinkId: string }[]; success: string }>(
      fake,
      'POST',
      '/v5/order/cancel-all',
      {
        category: 'spot',
      },
    );
    expect(all.body?.result.list.map((o) => o.orderLinkId).sort()).toEqual(['b-1', 'walk-44k']);
    expect(fake.orders().filter((o) => o.orderStatus === 'New')).toEqual([]);
    expect(fake.balances().USDT?.locked).toBe('0');
  });
});

describe('fake Bybit: faults and rate limits', () => {
  let fake: FakeBybit;
  const create = (params: Record<string, unknown>) => call(fake, 'POST', '/v5/order/create', params);
  beforeAll(async () => {
    fake = await startFakeBybit(options({ rateLimitPerSecond: 3 }));
    fake.setPrice('BTCUSDT', '50000');
  });
  afterEach(() => {
    Object.assign(fake.faults, { http5xx: 0, http5xxAfterProcessing: 0, slowMs: 0, rateLimited: false });
  });
  afterAll(() => fake.close());

  it('http5xx: 503 and nothing processed', async () => {
    fake.faults.http5xx = 1;
    const r = await create(limitBuy('lost-1', '0.001', '49000'));
    expect(r.status).toBe(503);
    expect(r.text).toBe('service unavailable');
    expect(fake.orders()).toEqual([]);
    expect(fake.requests().at(-1)).toEqual({
      method: 'POST',
      path: '/v5/order/create',
      retCode: null,
      httpStatus: 503,
    });
  });

  it('http5xxAfterProcessing: 503 but the order exists', async () => {
    fake.faults.http5xxAfterProcessing = 1;
    const r = await create(limitBuy('ghost-1', '0.001', '49000'));
    expect(r.status).toBe(503);
    expect(fake.orders().map((o) => [o.orderLinkId, o.orderStatus])).toEqual([['ghost-1', 'New']]);
    fake.faults.http5xxAfterProcessing = 0;
    expect((await create(limitBuy('ghost-1', '0.001', '49000'))).body?.retCode).toBe(170141);
  });

  it('rateLimited: every order endpoint answers 10006', async () => {
    fake.faults.rateLimited = true;
    const r = await create(limitBuy('limited-1', '0.001', '49000'));
    expect(r.body).toMatchObject({ retCode: 10006, retMsg: 'Too many visits!' });
    const q = await call(fake, 'GET', '/v5/order/realtime', { category: 'spot' });
    expect(q.body?.retCode).toBe(10006);
    expect(fake.orders().some((o) => o.orderLinkId === 'limited-1')).toBe(false);
  });

  it('enforces the per-second budget on cancel with X-Bapi-Limit headers', async () => {
    const cancel = () =>
      call(fake, 'POST', '/v5/order/cancel', { category: 'spot', symbol: 'BTCUSDT', orderId: '1' });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await cancel());
    expect(answers.map((a) => a.body?.retCode)).toEqual([170213, 170213, 170213, 10006]);
    expect(answers[0]!.headers.get('x-bapi-limit')).toBe('3');
    expect(answers[0]!.headers.get('x-bapi-limit-status')).toBe('2');
    expect(answers[3]!.headers.get('x-bapi-limit-status')).toBe('0');
    expect(Number(answers[3]!.headers.get('x-bapi-limit-reset-timestamp'))).toBeGreaterThan(Date.now() - 50);
  });
});

describe('fake Bybit: API key information', () => {
  let fake: FakeBybit;
  beforeAll(async () => {
    fake = await startFakeBybit(options());
  });
  afterAll(() => fake.close());

  // The key check at start reads this endpoint: its shape must be Bybit's (as the SDK reads it), and each setting a
  // test changes must show.
  it('describes the key as Bybit does, signed, and as the test sets it', async () => {
    const client = new RestClientV5({ key: KEY, secret: SECRET, baseUrl: fake.url });
    const bound = await client.getQueryApiKey();
    expect(bound.retCode).toBe(0);
    expect(bound.result).toMatchObject({
      apiKey: KEY,
      readOnly: 0,
      secret: '',
      ips: ['127.0.0.1'],
      type: 1,
      permissions: { Spot: ['SpotTrade'], Wallet: [], ContractTrade: [], Options: [], Derivatives: [] },
    });
    expect(typeof bound.result.deadlineDay).toBe('number');

    Object.assign(fake.apiKeyInfo, {
      readOnly: 1,
      permissions: { Spot: ['SpotTrade'], Wallet: ['AccountTransfer', 'Withdraw'] },
      ips: ['*'],
      deadlineDay: 9,
    });
    const unbound = await client.getQueryApiKey();
    expect(unbound.result).toMatchObject({
      readOnly: 1,
      ips: ['*'],
      deadlineDay: 9,
      permissions: { Spot: ['SpotTrade'], Wallet: ['AccountTransfer', 'Withdraw'] },
    });
    const days = (Date.parse(unbound.result.expiredAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(8);
    expect(days).toBeLessThanOrEqual(9);

    const wrong = new RestClientV5({ key: KEY, secret: 'not-the-secret', baseUrl: fake.url });
    expect((await wrong.getQueryApiKey()).retCode).toBe(10004);

    fake.apiKeyInfo.unsupported = true;
    const answer = await call(fake, 'GET', '/v5/user/query-api', {});
    expect(answer.status).toBe(404);
  });
});
