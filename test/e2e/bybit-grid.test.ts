import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import type { FakeBybit } from '../fakes/bybit/server.js';
import { settle, startTestApp, type TestApp } from '../support/app.js';
import { startBtcFake, testnetEnv } from '../support/bybit.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'test', via: 'cli', role: 'operator' };
const KEY = 'grid-e2e-key';
const SECRET = 'grid-e2e-secret';

/**
 * A grid run by the app in testnet mode against the fake Bybit, through the real client: orders at the right rounded
 * prices and quantities, fills applied once, counter orders placed, and the books equal to the exchange's, with
 * Bybit's fee rule (buys pay in the base coin, sells in quote).
 */
describe('a grid on (fake) Bybit', () => {
  let fake: FakeBybit;
  let db: TestDatabase;
  let app: TestApp;
  let gridId: string;

  const openOrders = () =>
    fake
      .orders()
      .filter((o) => o.orderStatus === 'New')
      .map((o) => `${o.side} ${o.price} ${o.qty}`)
      .sort();

  /** Waits until every execution on the exchange is a trade in the store, and the app is quiet. */
  async function caughtUp(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const ids = fake.executions().map((e) => e.execId);
      const [{ n }] = (await app.rt.ds.query(`SELECT count(*)::int AS n FROM trade WHERE exec_id = ANY($1)`, [
        ids,
      ])) as [{ n: number }];
      if (n === ids.length) {
        await settle(app.rt);
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the app did not apply every execution of the exchange');
  }

  beforeAll(async () => {
    fake = await startBtcFake(KEY, SECRET, { balances: { USDT: '100000' } });
    db = await createTestDatabase();
    app = await startTestApp({
      databaseUrl: db.url,
      prefix: testPrefix(),
      env: {
        ...testnetEnv(fake, KEY, SECRET),
        BYBIT_WS_FALLBACK_MS: '300',
        BYBIT_POLL_MS: '100',
      },
    });
    for (let i = 0; i < 100 && !(await app.rt.prices.get('BTCUSDT')); i++)
      await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await fake?.close();
  });

  it('starts: a market buy for the base above the price, then a buy below and a sell above every line', async () => {
    const created = await app.rt.grids.create(OPERATOR, {
      symbol: 'BTCUSDT',
      lower: '95000',
      upper: '105000',
      grids: 10,
      investment: '10000',
    });
    if (!created.ok) throw new Error(created.error.message);
    gridId = created.value.id;
    await caughtUp();
    // The start's orders went out in batches.
    expect(fake.requests().some((r) => r.path === '/v5/order/create-batch')).toBe(true);
    // q = 10000 / 10 / 100000 = 0.01; k = 5. The start buy of 0.05 paid 0.00005 BTC: 0.04995 received, so the top
    // cell sells 0.00995 instead of 0.01.
    expect(openOrders()).toEqual([
      'Buy 95000 0.01',
      'Buy 96000 0.01',
      'Buy 97000 0.01',
      'Buy 98000 0.01',
      'Buy 99000 0.01',
      'Sell 101000 0.01',
      'Sell 102000 0.01',
      'Sell 103000 0.01',
      'Sell 104000 0.01',
      'Sell 105000 0.00995',
    ]);
  });

  it('fills, counter orders and books that match the exchange, fee coins included', async () => {
    fake.setPrice('BTCUSDT', '97500'); // fills the buys at 99000 and 98000
    await caughtUp();
    fake.setPrice('BTCUSDT', '100500'); // fills the sells at 99000 and 100000 (each 0.00999 after the buy fee)
    await caughtUp();
    const executions = fake.executions();
    expect(executions.length).toBe(5);
    const [{ n }] = (await app.rt.ds.query(`SELECT count(*)::int AS n FROM trade`)) as [{ n: number }];
    expect(n).toBe(executions.length);
    const g = await app.rt.grids.get(OPERATOR, gridId);
    if (!g.ok) throw new Error(g.error.message);
    const account = fake.balances();
    // The grid is the only trader on the account: its base is the account's BTC, its quote what the USDT moved by.
    expect(new Decimal(g.value.baseQty).eq(account.BTC!.walletBalance)).toBe(true);
    expect(new Decimal(100000).minus(10000).plus(g.value.quoteBalance).eq(account.USDT!.walletBalance)).toBe(
      true,
    );
    // Two cycles of 0.00999 BTC (0.01 bought, less the 0.00001 BTC fee) over a 1000 spacing: 2 x 9.99 realized.
    expect(g.value.realizedPnl).toBe('19.98');
    // Each trade's fee as charged, and valued in quote as the ledger counts it: the BTC fees of the buys at their price.
    const trades = (await app.rt.ds.query(
      `SELECT side, price::text, fee::text, fee_currency, fee_quote::text FROM trade ORDER BY id`,
    )) as { side: string; price: string; fee: string; fee_currency: string; fee_quote: string }[];
    for (const t of trades) {
      expect(t.fee_currency).toBe(t.side === 'buy' ? 'BTC' : 'USDT');
      const inQuote = t.side === 'buy' ? new Decimal(t.fee).times(t.price) : new Decimal(t.fee);
      expect(new Decimal(t.fee_quote).eq(inQuote), `${t.side} at ${t.price}`).toBe(true);
    }
    const [{ fees }] = (await app.rt.ds.query(`SELECT SUM(fee_quote)::text AS fees FROM trade`)) as [
      { fees: string },
    ];
    expect(new Decimal(fees).eq(g.value.fees)).toBe(true);
  });
});

describe('the exchange’s cap on open orders', () => {
  it('is checked at creation, with the figures', async () => {
    const fake = await startBtcFake(KEY, SECRET, { balances: { USDT: '1000000' } });
    const db = await createTestDatabase();
    const app = await startTestApp({
      databaseUrl: db.url,
      prefix: testPrefix(),
      env: {
        ...testnetEnv(fake, KEY, SECRET),
        BYBIT_WS_FALLBACK_MS: '300',
        BYBIT_POLL_MS: '100',
      },
    });
    try {
      for (let i = 0; i < 100 && !(await app.rt.prices.get('BTCUSDT')); i++)
        await new Promise((r) => setTimeout(r, 50));
      const first = await app.rt.grids.create(OPERATOR, {
        symbol: 'BTCUSDT',
        lower: '95000',
        upper: '105000',
        grids: 10,
        investment: '10000',
      });
      expect(first.ok).toBe(true);
      await settle(app.rt);
      const big = await app.rt.grids.create(OPERATOR, {
        symbol: 'BTCUSDT',
        lower: '90000',
        upper: '110000',
        grids: 495,
        investment: '500000',
      });
      expect(big).toEqual({
        ok: false,
        error: {
          kind: 'invalid',
          message:
            "this grid keeps 495 orders open; with the 10 open now that makes 505, above the exchange's limit of 500 open orders per account",
        },
      });
    } finally {
      await app.close();
      await db.drop();
      await fake.close();
    }
  });
});

describe('the kill switch against a failing Bybit', () => {
  it('keeps cancelling through errors, and says so when the exchange stops answering', async () => {
    const fake = await startBtcFake(KEY, SECRET, { balances: { USDT: '1000000' } });
    const db = await createTestDatabase();
    const app = await startTestApp({
      databaseUrl: db.url,
      prefix: testPrefix(),
      env: {
        ...testnetEnv(fake, KEY, SECRET),
        BYBIT_TIMEOUT_MS: '500',
        KILL_CANCEL_DEADLINE_MS: '3000',
      },
    });
    try {
      for (let i = 0; i < 100 && !(await app.rt.prices.get('BTCUSDT')); i++)
        await new Promise((r) => setTimeout(r, 50));
      for (const [lower, upper] of [
        ['95000', '105000'],
        ['96000', '104000'],
      ]) {
        const g = await app.rt.grids.create(OPERATOR, {
          symbol: 'BTCUSDT',
          lower,
          upper,
          grids: 10,
          investment: '10000',
        });
        if (!g.ok) throw new Error(g.error.message);
      }
      for (let i = 0; i < 100 && fake.orders().filter((o) => o.orderStatus === 'New').length < 20; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      // Half the requests fail: the kill retries until the exchange confirms nothing is left.
      fake.faults.http5xx = 0.5;
      const killed = await app.rt.risk.kill(OPERATOR, 'manual: failing exchange');
      fake.faults.http5xx = 0;
      if (!killed.ok) throw new Error(killed.error.message);
      expect(killed.value).toMatchObject({ outcome: 'all-cancelled', ordersOpenAfter: 0 });
      expect(fake.orders().filter((o) => o.orderStatus === 'New')).toEqual([]);
      await app.rt.risk.settled();
      expect((await app.rt.risk.reset(OPERATOR)).ok).toBe(true);
      // A grid trades again; then the exchange stops answering altogether during the next kill.
      const g = await app.rt.grids.create(OPERATOR, {
        symbol: 'BTCUSDT',
        lower: '97000',
        upper: '103000',
        grids: 6,
        investment: '6000',
      });
      if (!g.ok) throw new Error(g.error.message);
      await settle(app.rt);
      fake.faults.http5xx = 1;
      const dead = await app.rt.risk.kill(OPERATOR, 'manual: exchange down');
      fake.faults.http5xx = 0;
      if (!dead.ok) throw new Error(dead.error.message);
      expect(dead.value.outcome).toBe('exchange-unreachable');
      expect(dead.value.durationMs).toBeGreaterThanOrEqual(3000);
      expect(await app.rt.risk.isKilled()).toBe(true);
    } finally {
      await app.close();
      await db.drop();
      await fake.close();
    }
  }, 60_000);
});
