import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { movePrice, settle, startBtcGrid, startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'ops', via: 'cli', role: 'operator' };

/**
 * Layer 1 end to end in paper mode, for the checks that need a market to have moved: the fat-finger guard and the
 * position limit. A refused order stays unsent with its reason (held, when its rule clears by itself, until it does;
 * closed otherwise), the exchange never sees it, the user is told once, and the orders the rules allow still go.
 */
describe('pre-trade checks (paper)', () => {
  let db: TestDatabase;
  let app: TestApp;

  async function start(env: Record<string, string>): Promise<string> {
    db = await createTestDatabase();
    // The volatility breaker and the jump hold are lifted: the market moves in one step here, and the rules under
    // test must be the ones that speak.
    app = await startTestApp({
      databaseUrl: db.url,
      prefix: testPrefix(),
      env: { RISK_VOLATILITY_PCT: '90', RISK_PRICE_JUMP_PCT: '90', ...env },
    });
    // Lines every 2,000 from 90,000 to 110,000: five buys below the price, five cells bought at start.
    return startBtcGrid(app.rt);
  }
  afterEach(async () => {
    await app?.close();
    await db?.drop();
  });

  const refused = async (gridId: string) =>
    (await app.rt.ds.query(
      `SELECT side, price::text AS price, reason FROM grid_order WHERE grid_id = $1 AND status = 'rejected'
        ORDER BY price DESC`,
      [gridId],
    )) as { side: string; price: string; reason: string }[];
  const heldAlerts = async () =>
    (await app.rt.queues.notifications.getJobs(['waiting', 'active', 'completed', 'delayed']))
      .map((j) => j.data as { title: string; lines: string[] })
      .filter((n) => n.title.includes('order held back'));
  const placedAgain = async () =>
    (await app.rt.queues.notifications.getJobs(['waiting', 'active', 'completed', 'delayed']))
      .map((j) => j.data as { title: string; lines: string[] })
      .filter((n) => n.title.includes('placed again'));
  const paperOrdersAt = async (price: string) =>
    (
      (await app.rt.ds.query(
        `SELECT count(*)::int AS n FROM paper_order WHERE side = 'buy' AND price = $1 AND status = 'open'`,
        [price],
      )) as [{ n: number }]
    )[0].n;

  const held = async (gridId: string) =>
    (await app.rt.ds.query(
      `SELECT client_order_id, side, price::text AS price, reason FROM grid_order WHERE grid_id = $1 AND status = 'held'
        ORDER BY price DESC`,
      [gridId],
    )) as { client_order_id: string; side: string; price: string; reason: string }[];

  // Protects the fat finger's hold and its healing: the far buy is kept home (not dropped) while the price is away, and
  // the same order goes, once, when a price brings it back within range. Before held orders healed it was closed as
  // 'rejected' and the grid had a hole at 98,000 until someone paused and resumed it.
  it('fat finger: after a fall while paused, a resumed buy far above the price is held back, nearer ones go, and the held one goes when the price comes back', async () => {
    const gridId = await start({ RISK_MAX_PRICE_DISTANCE_PCT: '10' });
    expect(await refused(gridId)).toEqual([]);
    expect(await app.rt.grids.pause(OPERATOR, gridId)).toMatchObject({ ok: true });
    await settle(app.rt);
    await movePrice(app.rt, 'BTCUSDT', '88500');
    expect(await app.rt.grids.resume(OPERATOR, gridId)).toMatchObject({ ok: true });
    await settle(app.rt);
    // The buy at 98,000 would pay 10.73 % over the market at once; the one at 96,000 (8.47 %) is within the limit.
    const [far, ...others] = await held(gridId);
    expect(others).toEqual([]);
    expect(far).toMatchObject({
      side: 'buy',
      price: '98000',
      reason: 'pre-trade price-too-far: buy at 98000 is 10.73 % from the last price 88500 (limit 10 %)',
    });
    expect(await refused(gridId)).toEqual([]);
    expect(await paperOrdersAt('98000')).toBe(0);
    const alerts = await heldAlerts();
    expect(alerts.map((a) => a.title)).toEqual([`BTCUSDT grid ${gridId}: order held back (price-too-far)`]);
    // The nearer buy went to the exchange (and, priced above the market, filled there); the grid runs on.
    const [near] = (await app.rt.ds.query(
      `SELECT status FROM grid_order WHERE grid_id = $1 AND side = 'buy' AND price = 96000 ORDER BY created_at DESC LIMIT 1`,
      [gridId],
    )) as { status: string }[];
    expect(['placed', 'filled']).toContain(near?.status);
    expect(await app.rt.grids.get(OPERATOR, gridId)).toMatchObject({
      ok: true,
      value: { status: 'running' },
    });
    // Still too far at 89,000 (10.11 %): it stays held, and nothing more is said.
    await movePrice(app.rt, 'BTCUSDT', '89000');
    expect((await held(gridId)).map((o) => o.client_order_id)).toEqual([far!.client_order_id]);
    // At 90,000 it is 8.89 % away: the same order (its client order id) reaches the exchange, once, and it is said.
    await movePrice(app.rt, 'BTCUSDT', '90000');
    expect(await held(gridId)).toEqual([]);
    const [sent] = (await app.rt.ds.query(
      `SELECT place_requests FROM paper_order WHERE client_order_id = $1`,
      [far!.client_order_id],
    )) as { place_requests: number }[];
    expect(sent).toEqual({ place_requests: 1 });
    const [row] = (await app.rt.ds.query(`SELECT status FROM grid_order WHERE client_order_id = $1`, [
      far!.client_order_id,
    ])) as { status: string }[];
    expect(['placed', 'filled']).toContain(row?.status);
    expect((await heldAlerts()).map((a) => a.title)).toEqual([
      `BTCUSDT grid ${gridId}: order held back (price-too-far)`,
    ]);
    expect((await placedAgain()).map((a) => [a.title, a.lines])).toEqual([
      [`BTCUSDT grid ${gridId}: held order placed again`, ['buy 0.01 @ 98000 (held: price-too-far)']],
    ]);
  });

  it('position limit: once the grid holds near the limit, new buys are held back and sells still go', async () => {
    const gridId = await start({ RISK_MAX_POSITION_QUOTE: '5500' });
    const [{ held }] = (await app.rt.ds.query(
      `SELECT (base_qty * 100000)::text AS held FROM grid WHERE id = $1`,
      [gridId],
    )) as [{ held: string }];
    expect(Number(held)).toBeGreaterThan(4500); // the start bought five cells' base
    expect(await refused(gridId)).toEqual([]); // at start nothing was held yet: every buy went
    expect(await app.rt.grids.pause(OPERATOR, gridId)).toMatchObject({ ok: true });
    await settle(app.rt);
    expect(await app.rt.grids.resume(OPERATOR, gridId)).toMatchObject({ ok: true });
    await settle(app.rt);
    const rows = await refused(gridId);
    expect(rows.map((r) => `${r.side} ${r.price}`)).toEqual([
      'buy 98000',
      'buy 96000',
      'buy 94000',
      'buy 92000',
      'buy 90000',
    ]);
    expect(rows[0]!.reason).toMatch(
      /^pre-trade position-limit: BTCUSDT position \d+(\.\d+)? \+ \d+(\.\d+)? would pass the limit 5500$/,
    );
    const [{ sells }] = (await app.rt.ds.query(
      `SELECT count(*)::int AS sells FROM paper_order WHERE side = 'sell' AND status = 'open'`,
    )) as [{ sells: number }];
    expect(sells).toBe(5);
    expect((await heldAlerts()).map((a) => a.title)).toEqual([
      `BTCUSDT grid ${gridId}: order held back (position-limit)`,
    ]);
  });
});
