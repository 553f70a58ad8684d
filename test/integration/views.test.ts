import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { movePrice, settle, startBtcGrid, startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'ops', via: 'cli', role: 'operator' };

/** The read model the chat and the API show: every figure traced back to the trades it sums. */
describe('views (paper)', () => {
  let db: TestDatabase;
  let app: TestApp;
  let gridId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp({ databaseUrl: db.url, prefix: testPrefix() });
    gridId = await startBtcGrid(app.rt);
    // Down through two buys, back up through their sells: two completed cycles.
    await movePrice(app.rt, 'BTCUSDT', '95500');
    await settle(app.rt);
    // In two steps: one move of more than 5 % would be held for confirmation.
    await movePrice(app.rt, 'BTCUSDT', '98000');
    await movePrice(app.rt, 'BTCUSDT', '100500');
    await settle(app.rt);
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('P/L of the day: totals, points and per-grid figures are the sums of the trades', async () => {
    const trades = (await app.rt.ds.query(`SELECT realized_pnl::text, fee_quote::text FROM trade`)) as {
      realized_pnl: string;
      fee_quote: string;
    }[];
    expect(trades.length).toBeGreaterThanOrEqual(5); // the start buy, two buys, two sells
    const realized = trades.reduce((s, t) => s.plus(t.realized_pnl), new Decimal(0));
    const fees = trades.reduce((s, t) => s.plus(t.fee_quote), new Decimal(0));
    expect(realized.gt(0)).toBe(true);
    const report = await app.rt.views.pnl('day', Date.now() + 1000);
    expect(report.fills).toBe(trades.length);
    expect(new Decimal(report.realized).eq(realized)).toBe(true);
    expect(new Decimal(report.fees).eq(fees)).toBe(true);
    expect(new Decimal(report.net).eq(realized.minus(fees))).toBe(true);
    // Hourly buckets over a day; the last one holds the running total.
    expect(report.points.length).toBeGreaterThanOrEqual(24);
    expect(report.points.length).toBeLessThanOrEqual(26);
    expect(new Decimal(report.points.at(-1)!.cumulativeNet).eq(realized.minus(fees))).toBe(true);
    expect(report.points[0]!.cumulativeNet).toBe('0');
    const [grid] = report.grids;
    expect(grid).toMatchObject({
      id: gridId,
      symbol: 'BTCUSDT',
      status: 'running',
      periodFills: trades.length,
    });
    expect(new Decimal(grid!.periodNet).eq(realized.minus(fees))).toBe(true);
    expect(grid!.totalNet).toBe(grid!.periodNet);
    expect(grid!.unrealized).not.toBeNull();
  });

  it('equity comes from the risk snapshots, and a check made before any grid existed is not a fall to zero', async () => {
    await app.rt.ds.query(
      `INSERT INTO risk_metric (at, kind, level, figures) VALUES
         (now() - interval '3 hours', 'snapshot', 'ok', '{"equity": "10000"}'),
         (now() - interval '2 hours', 'snapshot', 'ok', '{"equity": "0"}')`,
    );
    const report = await app.rt.views.pnl('day', Date.now());
    const equities = report.points.map((p) => p.equity).filter((e) => e !== null);
    expect(equities).toContain('10000');
    expect(equities).not.toContain('0');
  });

  it('a week and all time bucket by six hours and by day', async () => {
    const week = await app.rt.views.pnl('week', Date.now());
    expect(week.points.length).toBeGreaterThanOrEqual(28);
    expect(week.points.length).toBeLessThanOrEqual(30);
    expect(week.points[1]!.timeMs - week.points[0]!.timeMs).toBe(21_600_000);
    const all = await app.rt.views.pnl('all', Date.now());
    expect(all.net).toBe(week.net);
  });

  it('trades newest first, open orders and the ladder of the grid', async () => {
    const trades = await app.rt.views.trades(3);
    expect(trades).toHaveLength(3);
    expect(trades[0]!.at >= trades[1]!.at).toBe(true);
    expect(trades[0]).toMatchObject({
      gridId,
      symbol: 'BTCUSDT',
      side: 'sell',
      feeCoin: 'USDT',
      feeCurrency: 'USDT',
    });
    // Each with the ids that find it in the exchange's history (test/integration/trades-export.test.ts goes further).
    const [execution] = (await app.rt.ds.query(
      `SELECT exec_id, exchange_order_id, client_order_id FROM paper_execution WHERE exec_id = $1`,
      [trades[0]!.execId],
    )) as { exec_id: string; exchange_order_id: string; client_order_id: string }[];
    expect(execution).toBeDefined();
    expect(trades[0]).toMatchObject({
      orderId: execution!.exchange_order_id,
      clientOrderId: execution!.client_order_id,
    });
    const orders = await app.rt.views.openOrders('BTCUSDT');
    expect(orders.length).toBe(10); // one order per cell: a buy at its lower line or a sell at its upper
    const ladder = await app.rt.views.ladder(gridId);
    expect(ladder?.lines).toEqual([
      '90000',
      '92000',
      '94000',
      '96000',
      '98000',
      '100000',
      '102000',
      '104000',
      '106000',
      '108000',
      '110000',
    ]);
    expect([...ladder!.buys, ...ladder!.sells].sort()).toEqual(orders.map((o) => o.price).sort());
    expect(ladder?.price).toBe('100500');
    expect(await app.rt.views.ladder('g999')).toBeNull();
  });

  it('balances and the risk view', async () => {
    const balances = await app.rt.views.balances();
    expect(balances.map((b) => b.asset).sort()).toEqual(['BTC', 'USDT']);
    await app.rt.monitor.evaluate();
    const risk = await app.rt.views.risk();
    expect(risk).toMatchObject({ killed: false, breakers: [], lastIncident: null });
    expect(risk.latest?.drawdownLevel).toBe('ok');
  });

  it('a grid preview: spacing, quantity and the profit of one cycle after fees, nothing created', async () => {
    const before = (await app.rt.grids.list(OPERATOR)).ok;
    const arithmetic = await app.rt.grids.preview(OPERATOR, {
      symbol: 'BTCUSDT',
      lower: '90000',
      upper: '110000',
      grids: 10,
      investment: '1000',
    });
    if (!arithmetic.ok) throw new Error(arithmetic.error.message);
    const p = arithmetic.value;
    expect(p).toMatchObject({ symbol: 'BTCUSDT', spacing: '2000', price: '100500', grids: 10, buysBelow: 5 });
    // One cycle of the lowest cell: buy q at 90,000, sell q at 92,000, 0.1 % maker fee on each side.
    const q = new Decimal(p.qtyPerGrid);
    const lowest = q.times(2000).minus(q.times(90000 + 92000).times('0.001'));
    const highest = q.times(2000).minus(q.times(108000 + 110000).times('0.001'));
    expect(new Decimal(p.profitPerGridMax).eq(lowest.toDecimalPlaces(8, Decimal.ROUND_DOWN))).toBe(true);
    expect(new Decimal(p.profitPerGridMin).eq(highest.toDecimalPlaces(8, Decimal.ROUND_DOWN))).toBe(true);
    expect(new Decimal(p.baseToBuy).eq(q.times(5))).toBe(true);
    const geometric = await app.rt.grids.preview(OPERATOR, {
      symbol: 'BTCUSDT',
      lower: '90000',
      upper: '110000',
      grids: 10,
      investment: '1000',
      mode: 'geometric',
    });
    expect(geometric.ok && geometric.value.spacing).toMatch(/^2\.0\d* %$/);
    expect(
      await app.rt.grids.preview(OPERATOR, {
        symbol: 'NOPEUSDT',
        lower: '1',
        upper: '2',
        grids: 2,
        investment: '1',
      }),
    ).toEqual({
      ok: false,
      error: { kind: 'invalid', message: 'unknown symbol NOPEUSDT' },
    });
    expect((await app.rt.grids.list(OPERATOR)).ok).toBe(before);
    const [{ n }] = (await app.rt.ds.query(`SELECT count(*)::int AS n FROM grid`)) as [{ n: number }];
    expect(n).toBe(1);
  });
});
