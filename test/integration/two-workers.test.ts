import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { ExecutionRouter } from '../../src/app/execution-router.js';
import { openDatabase } from '../../src/db/data-source.js';
import { PgGridStore } from '../../src/db/grid-store.js';
import { PaperExchange } from '../../src/exchange/paper/paper-exchange.js';
import { simulatedInstrument } from '../../src/market/instruments.js';
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
    await a.rt.paper!.onPrice('ETHUSDT', 1, '3650');
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
    // Both processes receive the same start (a redelivered job) and race to carry it out.
    const start = { kind: 'start', price: 365_000_000_000 } as const;
    await Promise.all([a.rt.processor.apply(id, start), b.rt.processor.apply(id, start)]);
    await settle(a.rt);
    // The exchange fills on its own (nobody listening); then every fill reaches both processes at once, and both
    // reconcilers look for unsent intents while the fills' counter orders are being placed.
    const ds = await openDatabase(db.url, 2);
    const market = new PaperExchange(ds, {
      instruments: [simulatedInstrument('ETHUSDT')!],
      makerFee: '0.001',
      takerFee: '0.001',
      openingQuoteBalance: '1000000',
    });
    const router = new ExecutionRouter(
      new PgGridStore(a.rt.ds),
      { publish: async () => undefined },
      () => 'USDT',
    );
    let seq = 10;
    for (const price of ['3640', '3620', '3660', '3600', '3690', '3580', '3700', '3610', '3655']) {
      const executions = await market.onPrice('ETHUSDT', ++seq, price);
      const events = await Promise.all(executions.map((e) => router.toEvent(id, e)));
      await Promise.all([
        ...events.flatMap((e) => [a.rt.processor.apply(id, e!), b.rt.processor.apply(id, e!)]),
        a.rt.reconciler.run({ settleMs: 0 }),
        b.rt.reconciler.run({ settleMs: 0 }),
      ]);
      await settle(a.rt);
    }
    await ds.destroy();
    const [{ fills }] = (await a.rt.ds.query(`SELECT count(*)::int AS fills FROM trade WHERE grid_id = $1`, [
      id,
    ])) as [{ fills: number }];
    expect(fills).toBeGreaterThan(20);
    // Every client order id was sent to the exchange exactly once, whichever process sent it.
    const sent = (await a.rt.ds.query(`SELECT client_order_id, place_requests FROM paper_order`)) as {
      client_order_id: string;
      place_requests: number;
    }[];
    expect(sent.length).toBeGreaterThan(40);
    expect(sent.filter((o) => o.place_requests !== 1)).toEqual([]);
    expect(await checkInvariants(a.rt.ds, '1000000')).toEqual([]);
  });
});
