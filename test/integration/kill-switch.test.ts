import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { failedJobs, movePrice, settle, startTestApp, type TestApp } from '../support/app.js';
import { checkInvariants } from '../support/invariants.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'ops', via: 'cli', role: 'operator' };
const VIEWER: Actor = { id: 'viewer', via: 'rest', role: 'readonly' };

describe('the kill switch (paper)', () => {
  let db: TestDatabase;
  let app: TestApp;
  const prefix = testPrefix();

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp({ databaseUrl: db.url, prefix });
    for (const [symbol, price] of [
      ['BTCUSDT', '100000'],
      ['ETHUSDT', '3650'],
      ['SOLUSDT', '185'],
    ] as const) {
      await movePrice(app.rt, symbol, price);
    }
    for (const g of [
      { symbol: 'BTCUSDT', lower: '95000', upper: '105000', grids: 20, investment: '10000' },
      { symbol: 'ETHUSDT', lower: '3400', upper: '3900', grids: 25, investment: '5000' },
      { symbol: 'SOLUSDT', lower: '170', upper: '200', grids: 30, investment: '3000' },
    ]) {
      const r = await app.rt.grids.create(OPERATOR, g);
      if (!r.ok) throw new Error(r.error.message);
    }
    await settle(app.rt);
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('refuses a read-only user, and an operator kills: every grid stopped, every order cancelled, an incident', async () => {
    const [{ open }] = (await app.rt.ds.query(
      `SELECT count(*)::int AS open FROM paper_order WHERE status = 'open'`,
    )) as [{ open: number }];
    expect(open).toBe(75);
    expect(await app.rt.risk.kill(VIEWER, 'manual')).toEqual({
      ok: false,
      error: { kind: 'forbidden', message: 'kill needs an operator' },
    });
    const killed = await app.rt.risk.kill(OPERATOR, 'manual: test');
    if (!killed.ok) throw new Error(killed.error.message);
    await app.rt.risk.settled();
    expect(killed.value).toMatchObject({
      trigger: 'manual: test',
      ordersOpenBefore: 75,
      ordersOpenAfter: 0,
      gridsStopped: 3,
      outcome: 'all-cancelled',
    });
    const [{ left }] = (await app.rt.ds.query(
      `SELECT count(*)::int AS left FROM paper_order WHERE status = 'open'`,
    )) as [{ left: number }];
    expect(left).toBe(0);
    const grids = (await app.rt.ds.query(`SELECT status, stop_reason FROM grid`)) as {
      status: string;
      stop_reason: string;
    }[];
    expect(grids.every((g) => g.status === 'stopped' && g.stop_reason === 'kill')).toBe(true);
    // Every channel hears it, loudly, with the trigger and the figures.
    const alert = await app.rt.queues.notifications.getJob(`nt-${app.rt.jobTag}-kill-${killed.value.id}`);
    expect(alert?.data).toMatchObject({
      category: 'risk',
      severity: 'critical',
      title: 'KILL SWITCH ON (manual: test)',
    });
    expect(alert?.data.lines[0]).toBe('3 grids stopped; 75 open orders, 0 left (all-cancelled)');
    expect(alert?.data.lines).toHaveLength(2); // the sell-off is off by default: nothing said, nothing sold
    expect(killed.value.sellOff).toBe('off');
    const [{ exits }] = (await app.rt.ds.query(
      `SELECT count(*)::int AS exits FROM grid_order WHERE purpose = 'exit'`,
    )) as [{ exits: number }];
    expect(exits).toBe(0);
    // A second kill changes nothing and answers with the same incident.
    const again = await app.rt.risk.kill(OPERATOR, 'manual: again');
    expect(again.ok && again.value.id).toBe(killed.value.id);
  });

  it('while killed nothing new trades, and the books still balance once the cancels are settled', async () => {
    await movePrice(app.rt, 'BTCUSDT', '97000');
    const create = await app.rt.grids.create(OPERATOR, {
      symbol: 'BTCUSDT',
      lower: '90000',
      upper: '100000',
      grids: 10,
      investment: '1000',
    });
    expect(create).toMatchObject({
      ok: false,
      error: { kind: 'conflict', message: expect.stringMatching(/kill switch is on/) },
    });
    await app.rt.risk.settled();
    await settle(app.rt);
    expect(await checkInvariants(app.rt.ds, '1000000')).toEqual([]);
    expect(await failedJobs(app.rt)).toEqual([]);
  });

  it('a restart stays killed; only an operator resets', async () => {
    await app.close();
    app = await startTestApp({ databaseUrl: db.url, prefix });
    const state = await app.rt.risk.state();
    expect(state).toMatchObject({
      killed: true,
      trigger: 'manual: test',
      lastIncident: { outcome: 'all-cancelled' },
    });
    expect(await app.rt.risk.isKilled()).toBe(true);
    expect(await app.rt.risk.reset(VIEWER)).toEqual({
      ok: false,
      error: { kind: 'forbidden', message: 'reset needs an operator' },
    });
    const reset = await app.rt.risk.reset(OPERATOR);
    expect(reset.ok && reset.value.killed).toBe(false);
    expect(await app.rt.risk.isKilled()).toBe(false);
    const audit = (await app.rt.ds.query(
      `SELECT actor, action, outcome FROM audit_log WHERE target = 'kill-switch' ORDER BY id`,
    )) as { actor: string; action: string; outcome: string }[];
    expect(audit).toEqual([
      { actor: 'ops', action: 'kill', outcome: 'all-cancelled' },
      { actor: 'viewer', action: 'reset', outcome: 'refused: forbidden' },
      { actor: 'ops', action: 'reset', outcome: 'ok' },
    ]);
  });
});

describe('the kill switch with KILL_SELL_BASE', () => {
  let db: TestDatabase;
  let app: TestApp;
  const prefix = testPrefix();

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp({ databaseUrl: db.url, prefix, env: { KILL_SELL_BASE: 'true' } });
    await movePrice(app.rt, 'BTCUSDT', '100000');
    await movePrice(app.rt, 'SOLUSDT', '185');
    for (const g of [
      { symbol: 'BTCUSDT', lower: '95000', upper: '105000', grids: 20, investment: '10000' },
      { symbol: 'SOLUSDT', lower: '170', upper: '200', grids: 30, investment: '3000' },
    ]) {
      const r = await app.rt.grids.create(OPERATOR, g);
      if (!r.ok) throw new Error(r.error.message);
    }
    await settle(app.rt);
    // The SOL grid was stopped by its owner before the kill: what it holds is theirs to keep.
    const stopped = await app.rt.grids.stop(OPERATOR, 'SOLUSDT');
    if (!stopped.ok) throw new Error(stopped.error.message);
    await settle(app.rt);
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('sells the base of the grids it stopped at market, once their orders are gone, and says so', async () => {
    const held = async () =>
      new Map(
        (
          (await app.rt.ds.query(`SELECT symbol, base_qty::text AS qty FROM grid ORDER BY symbol`)) as {
            symbol: string;
            qty: string;
          }[]
        ).map((r) => [r.symbol, r.qty]),
      );
    const before = await held();
    expect(Number(before.get('BTCUSDT'))).toBeGreaterThan(0);
    expect(Number(before.get('SOLUSDT'))).toBeGreaterThan(0);
    const killed = await app.rt.risk.kill(OPERATOR, 'manual: sell-off test');
    if (!killed.ok) throw new Error(killed.error.message);
    expect(killed.value).toMatchObject({
      outcome: 'all-cancelled',
      sellOff: '1 grid selling base at market',
    });
    await app.rt.risk.settled();
    await settle(app.rt);
    const after = await held();
    expect(after.get('BTCUSDT')).toBe('0');
    expect(after.get('SOLUSDT')).toBe(before.get('SOLUSDT'));
    const exits = (await app.rt.ds.query(
      `SELECT symbol, side, type, status, quantity::text AS qty FROM grid_order WHERE purpose = 'exit'`,
    )) as { symbol: string; side: string; type: string; status: string; qty: string }[];
    expect(exits).toEqual([
      { symbol: 'BTCUSDT', side: 'sell', type: 'market', status: 'filled', qty: before.get('BTCUSDT') },
    ]);
    const alert = await app.rt.queues.notifications.getJob(`nt-${app.rt.jobTag}-kill-${killed.value.id}`);
    expect(alert?.data.lines).toContain('base sell-off: 1 grid selling base at market');
    // Still killed: the exit was the only order let out.
    expect(await app.rt.risk.isKilled()).toBe(true);
    expect(await checkInvariants(app.rt.ds, '1000000')).toEqual([]);
    expect(await failedJobs(app.rt)).toEqual([]);
  });
});
