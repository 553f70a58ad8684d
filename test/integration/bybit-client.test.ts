import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BybitApi } from '../../src/exchange/bybit/api.js';
import { BybitExchange } from '../../src/exchange/bybit/bybit-exchange.js';
import type { BybitError } from '../../src/exchange/bybit/errors.js';
import { BybitRestClient, type CallOutcome } from '../../src/exchange/bybit/rest-client.js';
import type { FakeBybit } from '../fakes/bybit/server.js';
import { startBtcFake } from '../support/bybit.js';

const KEY = 'gridops-test-key';
const SECRET = 'gridops-test-secret';

/** Our Bybit client and adapter against the fake Bybit (signatures checked as Bybit checks them). */
describe('Bybit client against the fake Bybit', () => {
  let fake: FakeBybit;
  let exchange: BybitExchange;
  const outcomes: CallOutcome[] = [];

  beforeAll(async () => {
    fake = await startBtcFake(KEY, SECRET, { balances: { USDT: '100000', BTC: '1' } });
    const rest = new BybitRestClient({
      baseUrl: fake.url,
      apiKey: KEY,
      apiSecret: SECRET,
      timeoutMs: 2000,
      onOutcome: (o) => outcomes.push(o),
    });
    exchange = new BybitExchange(new BybitApi(rest));
    await exchange.open(['BTCUSDT']);
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('reads the instrument filters into the engine’s terms', () => {
    expect(exchange.instrument('BTCUSDT')).toEqual({
      symbol: 'BTCUSDT',
      baseAsset: 'BTC',
      quoteAsset: 'USDT',
      tickSize: '0.01',
      qtyStep: '0.000001',
      minQty: '0.000001',
      minValue: '5',
    });
  });

  it('places by client order id once: a second placement is recognised, not doubled', async () => {
    const order = {
      symbol: 'BTCUSDT',
      clientOrderId: 'g1-0-1',
      side: 'buy',
      type: 'limit',
      price: '99000',
      qty: '0.001',
    } as const;
    expect(await exchange.placeOrder(order)).toMatchObject({ kind: 'placed' });
    expect(await exchange.placeOrder(order)).toMatchObject({ kind: 'already-placed', status: 'open' });
    expect(fake.orders().filter((o) => o.orderLinkId === 'g1-0-1')).toHaveLength(1);
    expect((await exchange.openOrders('BTCUSDT')).map((o) => o.clientOrderId)).toContain('g1-0-1');
  });

  it('places in batches of ten, each item with its own outcome', async () => {
    const base = { symbol: 'BTCUSDT', side: 'buy', type: 'limit', qty: '0.001' } as const;
    const requests = [
      ...Array.from({ length: 11 }, (_, i) => ({
        ...base,
        clientOrderId: `g3-${i}-1`,
        price: String(97000 + i),
      })),
      { ...base, clientOrderId: 'g3-20-1', price: '97000.001' }, // off the tick
      { ...base, clientOrderId: 'g1-0-1', price: '99000' }, // placed in an earlier test: a duplicate
    ];
    const outcomes = await exchange.placeOrders!(requests);
    expect(outcomes.slice(0, 11).every((o) => o.kind === 'placed')).toBe(true);
    expect(outcomes[11]).toMatchObject({ kind: 'rejected', reason: 'off-tick' });
    expect(outcomes[12]).toMatchObject({ kind: 'already-placed' });
    expect(fake.requests().filter((r) => r.path === '/v5/order/create-batch')).toHaveLength(2);
  });

  it('turns refusals into typed outcomes', async () => {
    const base = { symbol: 'BTCUSDT', side: 'buy', type: 'limit', qty: '0.001' } as const;
    expect(await exchange.placeOrder({ ...base, clientOrderId: 'g1-1-1', price: '99000.005' })).toMatchObject(
      {
        kind: 'rejected',
        reason: 'off-tick',
      },
    );
    expect(
      await exchange.placeOrder({ ...base, clientOrderId: 'g1-1-2', price: '99000', qty: '0.0010001' }),
    ).toMatchObject({
      kind: 'rejected',
      reason: 'off-step',
    });
    expect(
      await exchange.placeOrder({ ...base, clientOrderId: 'g1-1-3', price: '1000', qty: '0.001' }),
    ).toMatchObject({
      kind: 'rejected',
      reason: 'below-minimum',
    });
    expect(
      await exchange.placeOrder({ ...base, clientOrderId: 'g1-1-4', price: '99000', qty: '5' }),
    ).toMatchObject({
      kind: 'rejected',
      reason: 'insufficient-balance',
    });
    expect(await exchange.cancelOrder('BTCUSDT', 'never-placed')).toEqual({ kind: 'unknown' });
  });

  it('settles a placement whose answer was lost by asking for its client order id', async () => {
    const order = {
      symbol: 'BTCUSDT',
      clientOrderId: 'g1-2-1',
      side: 'buy',
      type: 'limit',
      price: '98000',
      qty: '0.001',
    } as const;
    // The exchange takes the order but its answer is lost (HTTP 503 after processing): the call is ambiguous.
    fake.faults.http5xxAfterProcessing = 1;
    const lost = await exchange.placeOrder(order).catch((e: unknown) => e);
    fake.faults.http5xxAfterProcessing = 0;
    expect((lost as BybitError).failure).toEqual({ kind: 'ambiguous', cause: 'http-5xx' });
    // The retry with the same client order id finds it: no second order.
    expect(await exchange.placeOrder(order)).toMatchObject({ kind: 'already-placed', status: 'open' });
    expect(fake.orders().filter((o) => o.orderLinkId === 'g1-2-1')).toHaveLength(1);
    // A request that never reached the book: the lookup finds nothing, and a retry places it once.
    fake.faults.http5xx = 1;
    const never = await exchange.placeOrder({ ...order, clientOrderId: 'g1-2-2' }).catch((e: unknown) => e);
    fake.faults.http5xx = 0;
    expect((never as BybitError).failure).toEqual({ kind: 'ambiguous', cause: 'http-5xx' });
    expect(fake.orders().filter((o) => o.orderLinkId === 'g1-2-2')).toHaveLength(0);
    expect(await exchange.placeOrder({ ...order, clientOrderId: 'g1-2-2' })).toMatchObject({
      kind: 'placed',
    });
  });

  it('reports rate limits and failures to the error-rate figure', async () => {
    fake.faults.rateLimited = true;
    const error = await exchange.cancelOrder('BTCUSDT', 'g1-0-1').catch((e: unknown) => e);
    fake.faults.rateLimited = false;
    expect((error as BybitError).failure.kind).toBe('rate-limited');
    expect(outcomes.some((o) => !o.ok && o.failure?.kind === 'rate-limited')).toBe(true);
    expect(outcomes.some((o) => o.ok)).toBe(true);
  });

  it('fills on the fake and reads the execution with its fee in the base coin', async () => {
    fake.setPrice('BTCUSDT', '98999'); // crosses the buy at 99000
    const executions = await exchange.executionsAfter(null, 100);
    const fill = executions.find((e) => e.clientOrderId === 'g1-0-1');
    expect(fill).toMatchObject({
      price: '99000',
      qty: '0.001',
      fee: '0.000001',
      feeCurrency: 'BTC',
      side: 'buy',
    });
    expect(await exchange.getOrder('g1-0-1')).toMatchObject({ status: 'filled', filled: '0.001' });
    expect(await exchange.cancelOrder('BTCUSDT', 'g1-0-1')).toEqual({ kind: 'not-open', status: 'filled' });
  });

  it('tells the user what to fix when the key or the clock is wrong', async () => {
    const wrong = new BybitExchange(
      new BybitApi(new BybitRestClient({ baseUrl: fake.url, apiKey: KEY, apiSecret: 'not-the-secret' })),
    );
    const e1 = (await wrong.balances().catch((e: unknown) => e)) as BybitError;
    expect(e1.failure).toEqual({ kind: 'auth', reason: 'bad-signature' });
    const skewed = new BybitExchange(
      new BybitApi(
        new BybitRestClient({
          baseUrl: fake.url,
          apiKey: KEY,
          apiSecret: SECRET,
          nowMs: () => Date.now() - 60_000,
        }),
      ),
    );
    const e2 = (await skewed.balances().catch((e: unknown) => e)) as BybitError;
    expect(e2.failure).toEqual({ kind: 'auth', reason: 'clock-skew' });
    expect(e2.message).not.toContain(SECRET);
  });
});

describe('Bybit rate limits', () => {
  it('a burst of placements stays under the per-second limit instead of hitting it', async () => {
    const fake = await startBtcFake(KEY, SECRET, { balances: { USDT: '1000000' }, rateLimitPerSecond: 20 });
    try {
      const exchange = new BybitExchange(
        new BybitApi(new BybitRestClient({ baseUrl: fake.url, apiKey: KEY, apiSecret: SECRET })),
      );
      await exchange.open(['BTCUSDT']);
      const started = Date.now();
      const outcomes = await Promise.all(
        Array.from({ length: 45 }, (_, i) =>
          exchange.placeOrder({
            symbol: 'BTCUSDT',
            clientOrderId: `g9-${i}-1`,
            side: 'buy',
            type: 'limit',
            price: String(90000 + i),
            qty: '0.001',
          }),
        ),
      );
      expect(outcomes.every((o) => o.kind === 'placed')).toBe(true);
      expect(fake.requests().filter((r) => r.retCode === 10006)).toEqual([]);
      // 45 orders at 20 a second cannot all go within the first two seconds.
      expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    } finally {
      await fake.close();
    }
  });
});
