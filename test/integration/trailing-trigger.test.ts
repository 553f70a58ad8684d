import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { openDatabase } from '../../src/db/data-source.js';
import { GridWaiting1764800000000 } from '../../src/db/migrations/1764800000000-grid-waiting.js';
import { failedJobs, movePrice, settle, startTestApp, type TestApp } from '../support/app.js';
import { checkInvariants } from '../support/invariants.js';
import { createTestDatabase, databaseBefore, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'test', via: 'cli', role: 'operator' };
const OPENING = '1000000';

async function book(app: TestApp): Promise<string[]> {
  const rows = (await app.rt.ds.query(
    `SELECT side, price, quantity FROM paper_order WHERE status = 'open' ORDER BY price`,
  )) as { side: string; price: string; quantity: string }[];
  return rows.map((o) => `${o.side} ${Number(o.quantity)} @ ${Number(o.price)}`);
}

async function said(app: TestApp, gridId: string): Promise<string[]> {
  return (
    await app.rt.queues.notifications.getJobs(['waiting', 'active', 'completed', 'delayed', 'prioritized'])
  )
    .map((j) => j.data as { gridId?: string; category: string; title: string })
    .filter((n) => n.gridId === gridId && n.category === 'lifecycle')
    .map((n) => n.title)
    .sort();
}

async function status(app: TestApp, gridId: string): Promise<{ status: string; state: string }> {
  const [row] = (await app.rt.ds.query(`SELECT status, state->>'status' AS state FROM grid WHERE id = $1`, [
    gridId,
  ])) as { status: string; state: string }[];
  return row!;
}

// Protects: a trailing grid follows the price through the whole app: each price past the window's next line reaches
// the grid, the lowest buy is cancelled on the exchange and the new top buy placed there, the sells' fills are trades.
describe('trailing up on the paper exchange', () => {
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
      trailingUp: true,
    });
    if (!created.ok) throw new Error(created.error.message);
    gridId = created.value.id;
    await settle(app.rt);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('shifts twice as the price rises: the lowest buys cancelled, the new top buys on the new lines', async () => {
    // Every sell fills on the way to 105000; the cells then buy again one line below their sells.
    await movePrice(app.rt, 'BTCUSDT', '105000');
    expect(await book(app)).toEqual([
      'buy 0.01 @ 95000',
      'buy 0.01 @ 96000',
      'buy 0.01 @ 97000',
      'buy 0.01 @ 98000',
      'buy 0.01 @ 99000',
      'buy 0.01 @ 100000',
      'buy 0.01 @ 101000',
      'buy 0.01 @ 102000',
      'buy 0.01 @ 103000',
      'buy 0.01 @ 104000',
    ]);
    // Line 11 (106000) is the next: cell 0 leaves (its 0.01 @ 95000 = 950 funds 0.009047 @ 105000); then line 12.
    await movePrice(app.rt, 'BTCUSDT', '106000');
    await movePrice(app.rt, 'BTCUSDT', '107000');
    expect(await book(app)).toEqual([
      'buy 0.01 @ 97000',
      'buy 0.01 @ 98000',
      'buy 0.01 @ 99000',
      'buy 0.01 @ 100000',
      'buy 0.01 @ 101000',
      'buy 0.01 @ 102000',
      'buy 0.01 @ 103000',
      'buy 0.01 @ 104000',
      'buy 0.009047 @ 105000',
      'buy 0.009056 @ 106000',
    ]);
    const cancelled = (await app.rt.ds.query(
      `SELECT client_order_id, price FROM paper_order WHERE status = 'cancelled' ORDER BY price`,
    )) as { client_order_id: string; price: string }[];
    expect(cancelled.map((o) => `${o.client_order_id} @ ${Number(o.price)}`)).toEqual([
      `${gridId}-0-1 @ 95000`,
      `${gridId}-1-1 @ 96000`,
    ]);
    const [state] = (await app.rt.ds.query(`SELECT state FROM grid WHERE id = $1`, [gridId])) as {
      state: { trail: { offset: number; shifts: number; leaving: unknown[] } };
    }[];
    expect(state!.state.trail).toMatchObject({ offset: 2, shifts: 2, leaving: [] });
    expect(await said(app, gridId)).toEqual([
      `BTCUSDT grid ${gridId} started`,
      `BTCUSDT grid ${gridId} trailing up: now 96000–106000`,
      `BTCUSDT grid ${gridId} trailing up: now 97000–107000`,
    ]);
    expect(await checkInvariants(app.rt.ds, OPENING)).toEqual([]);
    expect(await failedJobs(app.rt)).toEqual([]);
  });

  it('a fill on a new top buy is a trade, and the window trades as a grid', async () => {
    await movePrice(app.rt, 'BTCUSDT', '105500');
    await movePrice(app.rt, 'BTCUSDT', '104900');
    const trades = (await app.rt.ds.query(
      `SELECT client_order_id, side, price, quantity FROM trade WHERE client_order_id LIKE $1 ORDER BY executed_at`,
      [`${gridId}-10-%`],
    )) as { client_order_id: string; side: string; price: string; quantity: string }[];
    expect(trades.map((t) => `${t.side} ${Number(t.quantity)} @ ${Number(t.price)}`)).toEqual([
      'buy 0.009047 @ 105000',
    ]);
    expect(await checkInvariants(app.rt.ds, OPENING)).toEqual([]);
  });
});

// Protects: a grid with a trigger waits with nothing on the exchange, through a restart, and starts at its trigger
// price when a price crosses it; the database accepts its 'waiting' status and keeps the row's status with the state.
describe('trigger price on the paper exchange', () => {
  let db: TestDatabase;
  let app: TestApp;
  const prefix = testPrefix();
  let gridId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp({ databaseUrl: db.url, prefix });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('waits with no orders, survives a restart, and starts when the price crosses the trigger', async () => {
    await movePrice(app.rt, 'BTCUSDT', '100000');
    const created = await app.rt.grids.create(OPERATOR, {
      symbol: 'BTCUSDT',
      lower: '95000',
      upper: '105000',
      grids: 10,
      investment: '10000',
      trigger: '98000',
    });
    if (!created.ok) throw new Error(created.error.message);
    gridId = created.value.id;
    expect(created.value.status).toBe('waiting');
    await settle(app.rt);
    await movePrice(app.rt, 'BTCUSDT', '99000');
    expect(await status(app, gridId)).toEqual({ status: 'waiting', state: 'waiting' });
    expect(await book(app)).toEqual([]);

    await app.close();
    app = await startTestApp({ databaseUrl: db.url, prefix });
    await movePrice(app.rt, 'BTCUSDT', '98500');
    expect(await status(app, gridId)).toEqual({ status: 'waiting', state: 'waiting' });
    expect(await book(app)).toEqual([]);

    // Crossed from above: the grid starts at P0 = 98000 (k = 3: buys at 95000..97000, the seven cells above bought).
    await movePrice(app.rt, 'BTCUSDT', '97500');
    expect(await status(app, gridId)).toEqual({ status: 'running', state: 'running' });
    const orders = await book(app);
    expect(orders.map((o) => o.replace(/ [\d.]+ @/, ' @'))).toEqual([
      'buy @ 95000',
      'buy @ 96000',
      'buy @ 97000',
      'sell @ 99000',
      'sell @ 100000',
      'sell @ 101000',
      'sell @ 102000',
      'sell @ 103000',
      'sell @ 104000',
      'sell @ 105000',
    ]);
    expect(await said(app, gridId)).toEqual([
      `BTCUSDT grid ${gridId} started`,
      `BTCUSDT grid ${gridId} triggered at 98000`,
      `BTCUSDT grid ${gridId} waiting for 98000`,
    ]);
    expect(await checkInvariants(app.rt.ds, OPENING)).toEqual([]);
    expect(await failedJobs(app.rt)).toEqual([]);
  });

  it('a grid paused while waiting does not start on a crossing, and waits again when resumed', async () => {
    const created = await app.rt.grids.create(OPERATOR, {
      symbol: 'BTCUSDT',
      lower: '95000',
      upper: '105000',
      grids: 10,
      investment: '10000',
      trigger: '99000',
      name: 'paused-waiting',
    });
    if (!created.ok) throw new Error(created.error.message);
    const id = created.value.id;
    expect((await app.rt.grids.pause(OPERATOR, id)).ok).toBe(true);
    await movePrice(app.rt, 'BTCUSDT', '99500');
    expect(await status(app, id)).toEqual({ status: 'paused', state: 'paused' });
    const resumed = await app.rt.grids.resume(OPERATOR, id);
    expect(resumed.ok && resumed.value.status).toBe('waiting');
    // The crossing happened while paused: it does not count; the next one does.
    await movePrice(app.rt, 'BTCUSDT', '99600');
    expect(await status(app, id)).toEqual({ status: 'waiting', state: 'waiting' });
    await movePrice(app.rt, 'BTCUSDT', '98900');
    expect(await status(app, id)).toEqual({ status: 'running', state: 'running' });
  });
});

// Protects: a database made before the trigger price upgrades and takes the 'waiting' status.
describe('migration 1764800000000: grid status waiting', () => {
  let db: TestDatabase;
  let ds: DataSource | null = null;
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('an existing database upgrades and accepts waiting', async () => {
    db = await createTestDatabase();
    const before = await databaseBefore(db.url, GridWaiting1764800000000);
    const insert = `INSERT INTO grid (id, name, symbol, lower, upper, grid_count, mode, investment, maker_fee, taker_fee,
                        status, source, state, quote_balance)
       VALUES ($1, $1, 'BTCUSDT', 90000, 110000, 10, 'arithmetic', 1000, 0.001, 0.001, $2, 'cli', '{}', 1000)`;
    await before.query(insert, ['g1', 'running']);
    await expect(before.query(insert, ['g2', 'waiting'])).rejects.toThrow(/grid_status_check/);
    await before.destroy();

    ds = await openDatabase(db.url, 2);
    await ds.query(insert, ['g2', 'waiting']);
    await expect(ds.query(insert, ['g3', 'sleeping'])).rejects.toThrow(/grid_status_check/);
    const rows = (await ds.query(`SELECT id, status FROM grid ORDER BY id`)) as {
      id: string;
      status: string;
    }[];
    expect(rows).toEqual([
      { id: 'g1', status: 'running' },
      { id: 'g2', status: 'waiting' },
    ]);
    const [index] = (await ds.query(
      `SELECT indexdef FROM pg_indexes WHERE indexname = 'grid_symbol_active'`,
    )) as { indexdef: string }[];
    expect(index!.indexdef).toContain('waiting');
  });
});
