import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { GridProcessor } from '../../src/app/grid-processor.js';
import type { Exchange, PlaceOrderRequest, PlaceOutcome } from '../../src/exchange/exchange.js';
import { settle, startTestApp, type TestApp } from '../support/app.js';
import { checkInvariants } from '../support/invariants.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'test', via: 'cli', role: 'operator' };

/**
 * Two worker processes (two runtimes with their own connection pools and BullMQ workers) on one Redis and one
 * Postgres, racing on the same grid.
 */
describe('two workers on one grid', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  const outcomes = new Map<string, PlaceOutcome['kind'][]>();

  const counting = (exchange: Exchange): Exchange => {
    const wrapped = Object.create(exchange) as Exchange;
    wrapped.placeOrder = async (r: PlaceOrderRequest) => {
      const outcome = await exchange.placeOrder(r);
      outcomes.set(r.clientOrderId, [...(outcomes.get(r.clientOrderId) ?? []), outcome.kind]);
      return outcome;
    };
    return wrapped;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    const prefix = testPrefix();
    a = await startTestApp({ databaseUrl: db.url, prefix, env: { WORKER_CONCURRENCY: '8' } });
    b = await startTestApp({ databaseUrl: db.url, prefix, env: { WORKER_CONCURRENCY: '8' } });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('places each order once and applies each fill once', async () => {
    await a.rt.exchange.onPrice('ETHUSDT', 1, '3650');
    await a.rt.prices.set([{ symbol: 'ETHUSDT', price: '3650', atMs: Date.now() }]);
    const created = await a.rt.grids.create(OPERATOR, {
      symbol: 'ETHUSDT',
      lower: '3500',
      upper: '3800',
      grids: 30,
      investment: '5000',
      start: false,
    });
    if (!created.ok) throw new Error(created.error.message);
    const id = created.value.id;
    const deps = (app: TestApp) => ({
      ds: app.rt.ds,
      bus: {
        publish: (g: string, e: Parameters<GridProcessor['apply']>[1], k?: string) =>
          app.rt.queues['grid-events']
            .add(e.kind, { gridId: g, event: e }, k ? { jobId: `ev-${k}` } : {})
            .then(() => undefined),
      },
      notifier: { notify: async () => undefined },
      log: app.rt.log,
    });
    const pa = new GridProcessor({ ...deps(a), exchange: counting(a.rt.exchange) });
    const pb = new GridProcessor({ ...deps(b), exchange: counting(b.rt.exchange) });
    // Both processes receive the same start (a redelivered job) and race to carry it out.
    await Promise.all([
      pa.apply(id, { kind: 'start', price: 365_000_000_000 }),
      pb.apply(id, { kind: 'start', price: 365_000_000_000 }),
    ]);
    await settle(a.rt);
    // Prices move both ways many times; fills arrive through both workers' queues.
    let seq = 10;
    for (const price of ['3640', '3620', '3660', '3600', '3690', '3580', '3700', '3610', '3655']) {
      await Promise.all([
        a.rt.exchange.onPrice('ETHUSDT', ++seq, price),
        b.rt.exchange.onPrice('ETHUSDT', seq, price),
      ]);
      // Every placement both processes know of is attempted by both at once.
      const intents = (await a.rt.ds.query(
        `SELECT client_order_id FROM grid_order WHERE status = 'intent'`,
      )) as { client_order_id: string }[];
      await Promise.all(
        intents.flatMap((r) => [pa.placeIntent(r.client_order_id), pb.placeIntent(r.client_order_id)]),
      );
      await settle(a.rt);
    }
    const fills = (await a.rt.ds.query(`SELECT count(*)::int AS n FROM trade WHERE grid_id = $1`, [id])) as [
      { n: number },
    ];
    expect(fills[0].n).toBeGreaterThan(20);
    // Each client order id reached the exchange as a new order exactly once, whoever sent it.
    expect(outcomes.size).toBeGreaterThan(20);
    for (const [clientOrderId, kinds] of outcomes) {
      expect(
        kinds.filter((k) => k === 'placed'),
        clientOrderId,
      ).toHaveLength(1);
    }
    expect(await checkInvariants(a.rt.ds, '1000000')).toEqual([]);
  });
});
