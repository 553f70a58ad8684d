import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { GridProcessor } from '../../src/app/grid-processor.js';
import { openDatabase } from '../../src/db/data-source.js';
import { PgGridStore } from '../../src/db/grid-store.js';
import { PgOrderStore } from '../../src/db/order-store.js';
import { PgTradeStore } from '../../src/db/trade-store.js';
import type { Exchange, PlaceOrderRequest } from '../../src/exchange/exchange.js';
import { PaperExchange } from '../../src/exchange/paper/paper-exchange.js';
import { simulatedInstrument } from '../../src/market/instruments.js';
import { failedJobs, movePrice, settle, startTestApp, type TestApp } from '../support/app.js';
import { checkInvariants } from '../support/invariants.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'test', via: 'cli', role: 'operator' };
const OPENING = '1000000';

describe('paper trading on BullMQ and Postgres', () => {
  let db: TestDatabase;
  let app: TestApp;
  let gridId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp({ databaseUrl: db.url, prefix: testPrefix() });
    await movePrice(app.rt, 'BTCUSDT', '100000');
    const created = await app.rt.grids.create(OPERATOR, {
      symbol: 'BTCUSDT',
      lower: '95000',
      upper: '105000',
      grids: 10,
      investment: '10000',
    });
    if (!created.ok) throw new Error(created.error.message);
    gridId = created.value.id;
    await settle(app.rt);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('starts: buys its base at market and rests a buy below and a sell above every line', async () => {
    // q = 10000 / 10 / 100000 = 0.01; k = 5 (the line at 100000): buys at 95000..99000, sells at 101000..105000.
    const orders = (await app.rt.ds.query(
      `SELECT side, price, quantity FROM paper_order WHERE status = 'open' ORDER BY price`,
    )) as { side: string; price: string; quantity: string }[];
    expect(orders.map((o) => `${o.side} ${Number(o.price)}`)).toEqual([
      'buy 95000',
      'buy 96000',
      'buy 97000',
      'buy 98000',
      'buy 99000',
      'sell 101000',
      'sell 102000',
      'sell 103000',
      'sell 104000',
      'sell 105000',
    ]);
    // The start buy's fee is taken in BTC, as on Bybit: 0.05 x 0.1 % taker = 0.00005 BTC (worth 5 USDT), so the five
    // start cells hold 0.04995 between them and the top one sells what is left for it, 0.00995.
    expect(orders.map((o) => Number(o.quantity))).toEqual([
      0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.00995,
    ]);
    const [start] = (await app.rt.ds.query(
      `SELECT side, price, quantity, fee, fee_currency, fee_quote FROM trade WHERE purpose = 'start'`,
    )) as {
      price: string;
      quantity: string;
      fee: string;
    }[];
    expect(start).toMatchObject({
      price: '100000',
      quantity: '0.05',
      fee: '0.00005',
      fee_currency: 'BTC',
      fee_quote: '5',
    });
    expect(await checkInvariants(app.rt.ds, OPENING)).toEqual([]);
  });

  it('a falling price fills buys, each placing its sell one line up; a rise completes the cycles', async () => {
    await movePrice(app.rt, 'BTCUSDT', '97500'); // fills the buys at 99000 and 98000
    // Each delivers 0.01 less its fee of 0.00001 BTC: 0.04995 + 2 x 0.00999.
    let g = (await app.rt.grids.get(OPERATOR, gridId)) as { ok: true; value: { baseQty: string } };
    expect(g.value.baseQty).toBe('0.06993');
    const sells = (await app.rt.ds.query(
      `SELECT price FROM paper_order WHERE status = 'open' AND side = 'sell' ORDER BY price`,
    )) as { price: string }[];
    expect(sells.map((s) => Number(s.price))).toEqual([
      99000, 100000, 101000, 102000, 103000, 104000, 105000,
    ]);
    // Sells of what the buys delivered, 0.00999 at 99000 and at 100000, complete two cycles of 1000 x 0.00999.
    await movePrice(app.rt, 'BTCUSDT', '100500');
    g = (await app.rt.grids.get(OPERATOR, gridId)) as {
      ok: true;
      value: { baseQty: string; realizedPnl: string };
    };
    expect(g.value).toMatchObject({ baseQty: '0.04995', realizedPnl: '19.98' });
    // The symbol's position: 0.04995 held (bought at start at 100000), marked at 100500: unrealized 24.975.
    const [position] = (await app.rt.ds.query(
      `SELECT quantity, avg_entry, realized_pnl, unrealized_pnl FROM position WHERE symbol = 'BTCUSDT'`,
    )) as { quantity: string; avg_entry: string; realized_pnl: string; unrealized_pnl: string }[];
    expect(Object.values(position!).map(Number)).toEqual([0.04995, 100000, 19.98, 24.975]);
    expect(await checkInvariants(app.rt.ds, OPENING)).toEqual([]);
    expect(await failedJobs(app.rt)).toEqual([]);
  });

  it('a fill applied twice changes nothing', async () => {
    const [execution] = await app.rt.exchange.executionsAfter(null, 1);
    const [before] = (await app.rt.ds.query(`SELECT version, state FROM grid WHERE id = $1`, [gridId])) as {
      version: number;
      state: unknown;
    }[];
    const event = {
      kind: 'fill' as const,
      clientOrderId: execution!.clientOrderId,
      execId: execution!.execId,
      price: Number(execution!.price) * 1e8,
      lots: 50_000, // the start buy: 0.05 BTC in steps of 0.000001
    };
    // Once through the processor directly, once through the queue under a job id BullMQ has not seen.
    const direct = await app.rt.processor.apply(gridId, event);
    await app.rt.queues['grid-events'].add('fill', { gridId, event }, { jobId: 'replayed-fill' });
    await settle(app.rt);
    expect(direct.applied).toBe(false);
    const [after] = (await app.rt.ds.query(`SELECT version, state FROM grid WHERE id = $1`, [gridId])) as {
      version: number;
      state: unknown;
    }[];
    expect(after!.version).toBe(before!.version);
    expect(after!.state).toEqual(before!.state);
    const [{ n }] = (await app.rt.ds.query(`SELECT count(*)::int AS n FROM trade WHERE exec_id = $1`, [
      execution!.execId,
    ])) as [{ n: number }];
    expect(n).toBe(1);
  });

  it('pause cancels every order on the exchange; resume puts them back', async () => {
    const paused = await app.rt.grids.pause(OPERATOR, gridId);
    expect(paused.ok && paused.value.status).toBe('paused');
    await settle(app.rt);
    const [{ open }] = (await app.rt.ds.query(
      `SELECT count(*)::int AS open FROM paper_order WHERE status = 'open'`,
    )) as [{ open: number }];
    expect(open).toBe(0);
    await movePrice(app.rt, 'BTCUSDT', '98500'); // nothing rests: nothing fills
    const resumed = await app.rt.grids.resume(OPERATOR, gridId);
    expect(resumed.ok && resumed.value.status).toBe('running');
    await settle(app.rt);
    const orders = (await app.rt.ds.query(
      `SELECT side, price FROM paper_order WHERE status = 'open' ORDER BY price`,
    )) as {
      side: string;
      price: string;
    }[];
    expect(orders).toHaveLength(10);
    // A buy at or above the market (99000 and 100000 now that the price is 98500) fills at once, as on an exchange.
    expect(await checkInvariants(app.rt.ds, OPENING)).toEqual([]);
  });

  it('refuses what a careful user would not want, with the figures, and audits it', async () => {
    const readOnly: Actor = { id: 'viewer', via: 'rest', role: 'readonly' };
    const denied = await app.rt.grids.pause(readOnly, gridId);
    expect(denied).toEqual({ ok: false, error: { kind: 'forbidden', message: 'pause needs an operator' } });
    const tiny = await app.rt.grids.create(OPERATOR, {
      symbol: 'BTCUSDT',
      lower: '90000',
      upper: '110000',
      grids: 100,
      investment: '10',
    });
    expect(tiny.ok).toBe(false);
    expect(!tiny.ok && tiny.error.message).toMatch(
      /quantity per grid 0.000001 \(investment 10 \/ 100 grids \/ start price 98500, .*\) is below the minimum quantity 0.000048/,
    );
    const unknown = await app.rt.grids.create(OPERATOR, {
      symbol: 'DOGEUSDT',
      lower: '1',
      upper: '2',
      grids: 2,
      investment: '10',
    });
    expect(!unknown.ok && unknown.error).toEqual({ kind: 'invalid', message: 'unknown symbol DOGEUSDT' });
    const audit = (await app.rt.ds.query(`SELECT actor, action, outcome FROM audit_log ORDER BY id`)) as {
      actor: string;
      action: string;
      outcome: string;
    }[];
    expect(audit).toContainEqual({ actor: 'viewer', action: 'pause', outcome: 'refused: forbidden' });
    expect(audit).toContainEqual({ actor: 'test', action: 'pause', outcome: 'ok' });
  });

  it('recovers a crash between "intent committed" and "order placed" by reconciliation', async () => {
    // A processor whose exchange dies on every placement: the process crashed right after the commit.
    const crashing: Exchange = Object.create(app.rt.exchange) as Exchange;
    let attempts = 0;
    crashing.placeOrder = async (_r: PlaceOrderRequest) => {
      attempts++;
      throw new Error('process killed');
    };
    // And one that crashes after the exchange took the order but before the answer was recorded.
    const lostAnswer: Exchange = Object.create(app.rt.exchange) as Exchange;
    lostAnswer.placeOrder = async (r: PlaceOrderRequest) => {
      await app.rt.exchange.placeOrder(r);
      throw new Error('process killed');
    };
    const deps = {
      grids: new PgGridStore(app.rt.ds),
      orders: new PgOrderStore(app.rt.ds),
      trades: new PgTradeStore(app.rt.ds),
      bus: { publish: async () => undefined },
      notifier: { notify: async () => undefined },
      log: app.rt.log,
    };
    const dead = new GridProcessor({ ...deps, exchange: crashing });
    await app.rt.grids.pause(OPERATOR, gridId);
    await settle(app.rt);
    await dead.apply(gridId, { kind: 'resume' }).catch(() => undefined);
    expect(attempts).toBeGreaterThan(0);
    const stuck = (await app.rt.ds.query(
      `SELECT status, count(*)::int AS n FROM grid_order WHERE status IN ('intent', 'placing') GROUP BY status`,
    )) as {
      status: string;
      n: number;
    }[];
    expect(stuck.reduce((n, r) => n + r.n, 0)).toBe(10);
    // One of them reached the exchange before the crash.
    const [one] = (await app.rt.ds.query(
      `SELECT client_order_id FROM grid_order WHERE status = 'placing' LIMIT 1`,
    )) as {
      client_order_id: string;
    }[];
    const half = new GridProcessor({ ...deps, exchange: lostAnswer });
    await app.rt.ds.query(`UPDATE grid_order SET status = 'intent' WHERE client_order_id = $1`, [
      one!.client_order_id,
    ]);
    await half.placeIntent(one!.client_order_id).catch(() => undefined);
    // The restarted process reconciles: placements whose answer was lost are looked up, the rest placed once.
    await app.rt.ds.query(`UPDATE grid_order SET updated_at = now() - interval '1 minute'`);
    await app.rt.reconciler.run({ settleMs: 0 });
    await app.rt.reconciler.run({ settleMs: 0 });
    await settle(app.rt);
    const open = (await app.rt.ds.query(
      `SELECT client_order_id FROM paper_order WHERE status = 'open'`,
    )) as unknown[];
    expect(open).toHaveLength(10);
    expect(await checkInvariants(app.rt.ds, OPENING)).toEqual([]);
  });

  it('applies on restart the fills the exchange made while the bot was down', async () => {
    const beforeTrades = (await app.rt.ds.query(`SELECT count(*)::int AS n FROM trade`)) as [{ n: number }];
    const prefix = testPrefix();
    await app.close();
    // The exchange goes on without the bot: its book fills on a falling price, and nobody is listening.
    const ds = await openDatabase(db.url, 2);
    const alone = new PaperExchange(ds, {
      instruments: [simulatedInstrument('BTCUSDT')!],
      makerFee: '0.001',
      takerFee: '0.001',
      openingQuoteBalance: OPENING,
    });
    const executions = await alone.onPrice('BTCUSDT', Date.now() * 1000, '96500');
    expect(executions.length).toBeGreaterThan(0);
    await ds.destroy();
    app = await startTestApp({ databaseUrl: db.url, prefix });
    await settle(app.rt);
    const afterTrades = (await app.rt.ds.query(`SELECT count(*)::int AS n FROM trade`)) as [{ n: number }];
    expect(afterTrades[0].n).toBe(beforeTrades[0].n + executions.length);
    expect(await checkInvariants(app.rt.ds, OPENING)).toEqual([]);
    // Trading resumed: the filled buys have their sells on the book.
    const sells = (await app.rt.ds.query(
      `SELECT count(*)::int AS n FROM paper_order WHERE status = 'open' AND side = 'sell'`,
    )) as [{ n: number }];
    expect(sells[0].n).toBeGreaterThan(5);
  });
});

describe('failed jobs', () => {
  it('end in the failed set with their reason, after their retries', async () => {
    const db = await createTestDatabase();
    const app = await startTestApp({ databaseUrl: db.url, prefix: testPrefix() });
    try {
      const job = await app.rt.queues['grid-events'].add('fill', {
        gridId: 'g1',
        event: { kind: 'fill', lots: -1 },
      });
      for (let i = 0; i < 100 && !(await job.isFailed()); i++) await new Promise((r) => setTimeout(r, 50));
      const [failed] = await app.rt.queues['grid-events'].getFailed();
      expect(failed?.id).toBe(job.id);
      expect(failed?.failedReason).toMatch(/^bad fill payload: /);
    } finally {
      await app.close();
      await db.drop();
    }
  });
});
