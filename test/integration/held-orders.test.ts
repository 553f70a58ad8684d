import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { Dec } from '../../src/engine/money.js';
import { movePrice, settle, startBtcGrid, startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'ops', via: 'cli', role: 'operator' };

/**
 * Held orders heal, end to end in paper mode on the real Postgres and Redis: an order held back by a rule that clears
 * by itself stays the grid's, unsent, and goes under its own client order id, once, on the first price that finds the
 * rule cleared; never while its grid is paused, stopped or killed. Said once when held and once when placed.
 */
describe('held orders (paper)', () => {
  let db: TestDatabase;
  let app: TestApp;

  async function start(env: Record<string, string>): Promise<void> {
    db = await createTestDatabase();
    app = await startTestApp({ databaseUrl: db.url, prefix: testPrefix(), env });
  }
  afterEach(async () => {
    await app?.close();
    await db?.drop();
  });

  const orders = async (gridId: string) =>
    (await app.rt.ds.query(
      `SELECT client_order_id, side, purpose, status, reason, cancel_requested FROM grid_order WHERE grid_id = $1
        ORDER BY client_order_id`,
      [gridId],
    )) as {
      client_order_id: string;
      side: string;
      purpose: string;
      status: string;
      reason: string | null;
      cancel_requested: boolean;
    }[];
  const sends = async (clientOrderIds: readonly string[]) =>
    (await app.rt.ds.query(
      `SELECT client_order_id, place_requests FROM paper_order WHERE client_order_id = ANY($1) ORDER BY client_order_id`,
      [clientOrderIds],
    )) as { client_order_id: string; place_requests: number }[];
  const said = async (gridId: string) =>
    (await app.rt.queues.notifications.getJobs(['waiting', 'active', 'completed', 'delayed', 'prioritized']))
      .map((j) => j.data as { gridId?: string; title: string; lines: string[] })
      .filter((n) => n.gridId === gridId && /held back|placed again/.test(n.title))
      .map((n) => n.title)
      .sort();
  async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const v = await read();
      if (ok(v)) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // Protects the heart of it: a held buy placed again when the breaker calms, under its own id, exactly once though
  // the price job runs twice (two deliveries of one price judged at once), said once when held and once when placed.
  // Before, the orders were closed as 'rejected' and the grid stayed with holes until paused and resumed.
  it('a held buy placed again when the breaker calms, once, though the price job runs twice', async () => {
    // Jumps are let through (ETH moves 9 % in one price here) so that the breaker is what speaks.
    await start({ RISK_PRICE_JUMP_PCT: '50', RISK_VOLATILITY_CALM_MS: '1000' });
    for (let i = 0; i < 9; i++) await movePrice(app.rt, 'ETHUSDT', '3600');
    await movePrice(app.rt, 'ETHUSDT', '3924');
    expect(await app.rt.monitor.trippedSymbols()).toEqual(['ETHUSDT']);
    const eth = await app.rt.grids.create(OPERATOR, {
      symbol: 'ETHUSDT',
      lower: '3800',
      upper: '4050',
      grids: 5,
      investment: '1000',
    });
    if (!eth.ok) throw new Error(eth.error.message);
    const gridId = eth.value.id;
    await settle(app.rt);
    // The start's market buy and the grid's buys below 3,924: held, with the breaker's reason, nothing sent.
    const held = await orders(gridId);
    expect(held.map((o) => `${o.purpose} ${o.side} ${o.status}`)).toEqual([
      'grid buy held',
      'grid buy held',
      'start buy held',
    ]);
    expect(held.every((o) => o.reason?.startsWith('pre-trade volatility-breaker: '))).toBe(true);
    const ids = held.map((o) => o.client_order_id);
    // What the user sees (/orders, GET /api/orders): the held orders, and why; the ladder draws none of them.
    const shown = (await app.rt.views.openOrders('ETHUSDT')).filter((o) => o.gridId === gridId);
    expect(shown.map((o) => `${o.side} ${o.held}`).sort()).toEqual([
      'buy volatility-breaker',
      'buy volatility-breaker',
      'buy volatility-breaker',
    ]);
    expect((await app.rt.views.ladder(gridId))?.buys).toEqual([]);
    expect(await sends(ids)).toEqual([]);
    // While the breaker is tripped, each price judges them again and they stay home, said nothing more. (Prices at
    // 3,924 trip it again until the window holds nothing else: nine more.)
    for (let i = 0; i < 9; i++) await movePrice(app.rt, 'ETHUSDT', '3924');
    expect((await orders(gridId)).map((o) => o.status)).toEqual(['held', 'held', 'held']);
    expect(await sends(ids)).toEqual([]);
    expect(await said(gridId)).toEqual([`ETHUSDT grid ${gridId}: order held back (volatility-breaker)`]);
    await until(
      'the breaker to calm',
      () => app.rt.monitor.trippedSymbols(),
      (t) => t.length === 0,
    );
    // Calm: the next price is delivered twice at once.
    const tick = { symbol: 'ETHUSDT', seq: Date.now() * 1000 + 999, price: '3924', atMs: Date.now() };
    await app.rt.queues.prices.addBulk([
      { name: 'price', data: tick },
      { name: 'price', data: tick },
    ]);
    await settle(app.rt);
    const after = await orders(gridId);
    expect(after.filter((o) => ids.includes(o.client_order_id)).map((o) => o.status)).toEqual([
      'placed',
      'placed',
      'filled', // the start's market buy
    ]);
    expect(await sends(ids)).toEqual(ids.map((id) => ({ client_order_id: id, place_requests: 1 })));
    // The start's base came: the three cells above the price now sell.
    expect(after.filter((o) => o.side === 'sell' && o.status === 'placed')).toHaveLength(3);
    await movePrice(app.rt, 'ETHUSDT', '3925');
    expect(await said(gridId)).toEqual(
      [
        `ETHUSDT grid ${gridId}: order held back (volatility-breaker)`,
        `ETHUSDT grid ${gridId}: 3 held orders placed again`,
      ].sort(),
    );
  });

  // Protects "never placed while its grid is paused". A pause cancels a held order like any other (the grid hears it);
  // and a pause committed whose cancels were not sent yet (a crash between the two, or the kill switch's way of
  // stopping grids) must not let the held order out when its rule clears: it is closed instead, and a resume places
  // the cell afresh, judged again.
  it('a held order of a paused grid is never placed: it is closed, and a resume places its cell afresh', async () => {
    await start({ RISK_VOLATILITY_PCT: '90', RISK_PRICE_JUMP_PCT: '90', RISK_MAX_PRICE_DISTANCE_PCT: '10' });
    const gridId = await startBtcGrid(app.rt);
    expect(await app.rt.grids.pause(OPERATOR, gridId)).toMatchObject({ ok: true });
    await settle(app.rt);
    await movePrice(app.rt, 'BTCUSDT', '88500');
    expect(await app.rt.grids.resume(OPERATOR, gridId)).toMatchObject({ ok: true });
    await settle(app.rt);
    // The fat finger holds the buy at 98,000 (10.73 % above 88,500).
    const [first] = (await orders(gridId)).filter((o) => o.status === 'held');
    expect(first).toMatchObject({ side: 'buy', reason: expect.stringMatching(/^pre-trade price-too-far: /) });
    const [, cell, seq] = /^(g\d+-\d+)-(\d+)$/.exec(first!.client_order_id)!;
    const nth = (k: number) => `${cell}-${Number(seq) + k}`;
    const gridOrder = async (id: string) => (await orders(gridId)).find((o) => o.client_order_id === id);
    const cellOrders = async () => {
      const [{ state }] = (await app.rt.ds.query(`SELECT state FROM grid WHERE id = $1`, [gridId])) as [
        { state: { cells: { order: { clientOrderId: string } | null }[] } },
      ];
      return state.cells.flatMap((c) => (c.order ? [c.order.clientOrderId] : []));
    };
    // A pause: the held order is cancelled on the spot, and the grid forgets it.
    expect(await app.rt.grids.pause(OPERATOR, gridId)).toMatchObject({ ok: true });
    await settle(app.rt);
    expect(await gridOrder(nth(0))).toMatchObject({ status: 'cancelled' });
    expect(await cellOrders()).not.toContain(nth(0));
    // Resumed at 88,500 still: the cell's next order is held in its turn.
    expect(await app.rt.grids.resume(OPERATOR, gridId)).toMatchObject({ ok: true });
    await settle(app.rt);
    expect(await gridOrder(nth(1))).toMatchObject({ status: 'held' });
    // A pause whose cancels are left unsent; the orders on the exchange get theirs from the reconciler, which leaves
    // held orders alone.
    await app.rt.processor.apply(gridId, { kind: 'pause' }, { sendCancels: false });
    await app.rt.reconciler.run({ settleMs: 0 });
    expect(await gridOrder(nth(1))).toMatchObject({ status: 'held', cancel_requested: true });
    // 90,000 clears the fat finger (8.89 %): the order is closed unsent, and the grid no longer counts it.
    await movePrice(app.rt, 'BTCUSDT', '90000');
    expect(await gridOrder(nth(1))).toMatchObject({ status: 'cancelled' });
    expect(await cellOrders()).not.toContain(nth(1));
    // Resumed: the cell's next order at 98,000 is judged now (within range) and goes; the held ones never did.
    expect(await app.rt.grids.resume(OPERATOR, gridId)).toMatchObject({ ok: true });
    await settle(app.rt);
    expect(await gridOrder(nth(2))).toMatchObject({
      side: 'buy',
      status: expect.stringMatching(/^(placed|filled)$/),
    });
    expect(await sends([nth(0), nth(1), nth(2)])).toEqual([{ client_order_id: nth(2), place_requests: 1 }]);
    expect((await said(gridId)).filter((t) => t.includes('placed again'))).toEqual([]);
  });

  // Protects "never placed while killed": the kill switch stops grids without sending cancels; a held order whose
  // rule then clears stays home and is closed, and the exchange never sees it.
  it('the kill switch keeps held orders home: a cleared rule does not let them out', async () => {
    await start({ RISK_VOLATILITY_PCT: '90', RISK_PRICE_JUMP_PCT: '90', RISK_MAX_PRICE_DISTANCE_PCT: '10' });
    const gridId = await startBtcGrid(app.rt);
    expect(await app.rt.grids.pause(OPERATOR, gridId)).toMatchObject({ ok: true });
    await settle(app.rt);
    await movePrice(app.rt, 'BTCUSDT', '88500');
    expect(await app.rt.grids.resume(OPERATOR, gridId)).toMatchObject({ ok: true });
    await settle(app.rt);
    const [far] = (await orders(gridId)).filter((o) => o.status === 'held');
    expect(far).toBeDefined();
    expect(await app.rt.risk.kill(OPERATOR, 'test')).toMatchObject({ ok: true });
    await app.rt.risk.settled();
    await movePrice(app.rt, 'BTCUSDT', '90000');
    const [row] = (await orders(gridId)).filter((o) => o.client_order_id === far!.client_order_id);
    expect(row).toMatchObject({ status: 'cancelled' });
    expect(await sends([far!.client_order_id])).toEqual([]);
    expect((await said(gridId)).filter((t) => t.includes('placed again'))).toEqual([]);
  });

  // Protects "the BTC filter always has BTC prices": with only ETHUSDT traded, the simulated feed still follows BTC
  // (its candles are what the filter reads), so a BTC fall holds ETH buys back, and they go once BTC no longer reads
  // as falling. Before, the feed followed ETH alone and the filter silently let every buy through.
  it('the BTC filter sees BTC prices when only ETHUSDT is traded, and its held buys go when it clears', async () => {
    await start({ MARKET_DATA: 'simulated', MARKET_SYMBOLS: 'ETHUSDT', MARKET_TICK_MS: '100' });
    expect(app.rt.symbols).toEqual(['ETHUSDT']);
    const btcCandles = () =>
      app.rt.ds.query(`SELECT count(*)::int AS n FROM ohlcv WHERE symbol = 'BTCUSDT'`) as Promise<
        { n: number }[]
      >;
    await until('a BTC price', btcCandles, ([r]) => r!.n > 0);
    const eth = await until(
      'an ETH price',
      () => app.rt.prices.get('ETHUSDT'),
      (p) => p !== null,
    );
    // An hour ago BTC was twenty times higher: from the feed's latest BTC candle, a 95 % fall.
    const btc = await app.rt.prices.get('BTCUSDT');
    await app.rt.ds.query(
      `INSERT INTO ohlcv (symbol, interval, open_time, open, high, low, close, volume)
       VALUES ('BTCUSDT', '1', date_trunc('minute', now()) - interval '61 minutes', $1, $1, $1, $1, 0)`,
      [new Dec(btc!.price).times(20).toFixed()],
    );
    const price = new Dec(eth!.price);
    const created = await app.rt.grids.create(OPERATOR, {
      symbol: 'ETHUSDT',
      lower: price.times('0.95').toDecimalPlaces(0).toFixed(),
      upper: price.times('1.05').toDecimalPlaces(0).toFixed(),
      grids: 6,
      investment: '1000',
    });
    if (!created.ok) throw new Error(created.error.message);
    const gridId = created.value.id;
    const held = await until(
      'the buys to be judged',
      () => orders(gridId),
      (o) => o.length > 0 && o.every((x) => x.status !== 'intent' && x.status !== 'placing'),
    );
    expect(held.every((o) => o.side === 'buy' && o.status === 'held')).toBe(true);
    expect(held[0]!.reason).toMatch(/^pre-trade btc-filter: BTC is down 9\d(\.\d+)? % \(more than 3 %\)/);
    expect(await sends(held.map((o) => o.client_order_id))).toEqual([]);
    // ETH prices keep coming (each judges them again): still held, said once.
    const seen = (await app.rt.prices.get('ETHUSDT'))!.atMs;
    await until(
      'more ETH prices',
      () => app.rt.prices.get('ETHUSDT'),
      (p) => p!.atMs > seen + 300,
    );
    expect((await orders(gridId)).every((o) => o.status === 'held')).toBe(true);
    expect(await said(gridId)).toEqual([`ETHUSDT grid ${gridId}: order held back (btc-filter)`]);
    // The hour-old candle goes: BTC no longer reads as falling, and the held buys go (BTC's change is read at most
    // every 10 s, so this waits for that).
    const ids = held.map((o) => o.client_order_id);
    await app.rt.ds.query(
      `DELETE FROM ohlcv WHERE symbol = 'BTCUSDT' AND open_time < now() - interval '30 minutes'`,
    );
    await until(
      'the held buys to reach the exchange',
      () => orders(gridId),
      (o) =>
        ids.every((id) => ['placed', 'filled'].includes(o.find((x) => x.client_order_id === id)!.status)),
    );
    expect(await sends(ids)).toEqual(ids.map((id) => ({ client_order_id: id, place_requests: 1 })));
    expect(await said(gridId)).toEqual(
      [
        `ETHUSDT grid ${gridId}: order held back (btc-filter)`,
        `ETHUSDT grid ${gridId}: ${held.length} held orders placed again`,
      ].sort(),
    );
  });
});
