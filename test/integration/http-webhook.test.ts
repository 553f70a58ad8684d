import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { AlertProcessor } from '../../src/app/alerts.js';
import { PgAlertStore } from '../../src/db/alert-store.js';
import { QueueNotifier } from '../../src/jobs/bus.js';
import { movePrice, settle, startTestApp, type TestApp } from '../support/app.js';
import { HTTP_ENV, PASSPHRASE, startTestHttp, type TestHttp, until } from '../support/http.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'ops', via: 'cli', role: 'operator' };

/** The TradingView webhook against the real app: Postgres, Redis, BullMQ and a worker. */
describe('TradingView webhook', () => {
  let db: TestDatabase;
  let app: TestApp;
  let http: TestHttp;
  let btcGrid: string;

  const post = (body: string, contentType: string | null = 'application/json', base = http.url) =>
    fetch(`${base}/webhook/tradingview`, {
      method: 'POST',
      headers: contentType === null ? {} : { 'content-type': contentType },
      // fetch labels a string body text/plain; bytes go out with no content type at all.
      body: contentType === null ? new TextEncoder().encode(body) : body,
    });
  const alert = (fields: Record<string, unknown>) => JSON.stringify({ passphrase: PASSPHRASE, ...fields });
  const alertRows = async () =>
    (await app.rt.ds.query(`SELECT count(*)::int AS n FROM alert`)) as [{ n: number }];
  const queuedAlerts = async () =>
    (await app.rt.queues.alerts.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed'])).filter(
      (j) => j.name === 'alerts',
    ).length;
  const gridStatus = async (id: string) =>
    ((await app.rt.ds.query(`SELECT status FROM grid WHERE id = $1`, [id])) as [{ status: string }])[0]
      .status;
  const processed = (alertId: string) =>
    until(async () => {
      const [row] = (await app.rt.ds.query(`SELECT processed, outcome FROM alert WHERE id = $1`, [
        alertId,
      ])) as {
        processed: boolean;
        outcome: string | null;
      }[];
      return row?.processed ? row.outcome! : undefined;
    }, `alert ${alertId} to be processed`);

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp({ databaseUrl: db.url, prefix: testPrefix(), env: HTTP_ENV });
    await movePrice(app.rt, 'BTCUSDT', '100000');
    await movePrice(app.rt, 'ETHUSDT', '3500');
    const g = await app.rt.grids.create(OPERATOR, {
      symbol: 'BTCUSDT',
      lower: '90000',
      upper: '110000',
      grids: 10,
      investment: '10000',
    });
    if (!g.ok) throw new Error(g.error.message);
    btcGrid = g.value.id;
    await settle(app.rt);
    http = await startTestHttp(app.rt);
  });
  afterAll(async () => {
    await http?.close();
    await app?.close();
    await db?.drop();
  });

  it('refuses every class of bad input with its status and a short JSON error; nothing is recorded or queued', async () => {
    const cases: [string, string, string | null, number, string][] = [
      ['malformed JSON', '{"symbol": "BTCUSDT", "action": ', 'application/json', 400, 'malformed'],
      ['text that is not JSON', 'BTCUSDT crossing 97250', 'text/plain', 400, 'malformed'],
      ['an empty body', '', 'application/json', 400, 'malformed'],
      ['a JSON array', '[1,2,3]', 'application/json', 400, 'malformed'],
      ['no passphrase', '{"symbol":"BTCUSDT","action":"sell"}', 'application/json', 401, 'unauthorized'],
      [
        'a wrong passphrase',
        alert({ symbol: 'BTCUSDT', action: 'sell', passphrase: 'guess' }),
        'text/plain',
        401,
        'unauthorized',
      ],
      [
        'a passphrase of the wrong type',
        '{"symbol":"BTCUSDT","action":"sell","passphrase":1}',
        'application/json',
        401,
        'unauthorized',
      ],
      [
        'a symbol of the wrong type',
        alert({ symbol: ['BTCUSDT'], action: 'sell' }),
        'application/json',
        400,
        'invalid',
      ],
      [
        'a price that is not a number',
        alert({ symbol: 'BTCUSDT', action: 'sell', price: 'NaN' }),
        'application/json',
        400,
        'invalid',
      ],
      [
        'an unknown action',
        alert({ symbol: 'BTCUSDT', action: 'hodl' }),
        'application/json',
        422,
        'unknown-action',
      ],
      [
        'an unknown symbol',
        alert({ symbol: 'DOGEUSDT', action: 'sell' }),
        'application/json',
        422,
        'unknown-symbol',
      ],
      [
        'an oversized body',
        alert({ symbol: 'BTCUSDT', action: 'sell', zone: 'z'.repeat(10_000) }),
        'application/json',
        413,
        'too-large',
      ],
      ['a form', 'symbol=BTCUSDT&action=sell', 'application/x-www-form-urlencoded', 415, 'unsupported-type'],
      ['XML', '<alert/>', 'application/xml', 415, 'unsupported-type'],
      ['no content type', alert({ symbol: 'BTCUSDT', action: 'sell' }), null, 415, 'unsupported-type'],
    ];
    const [before] = await alertRows();
    for (const [what, body, type, status, code] of cases) {
      const res = await post(body, type);
      const answer = (await res.json()) as { error: string; code: string };
      expect({ what, status: res.status, code: answer.code }).toEqual({ what, status, code });
      expect(answer.error.length).toBeGreaterThan(0);
      expect(answer.error.length).toBeLessThan(200);
    }
    expect((await alertRows())[0].n).toBe(before.n);
    expect(await queuedAlerts()).toBe(0);
    expect(await gridStatus(btcGrid)).toBe('running');
  });

  it('a valid alert pauses and resumes the grid end to end; the outcome is recorded and notified', async () => {
    const sell = await post(alert({ symbol: 'BTCUSDT', action: 'sell', price: 97250.0, zone: 'resistance' }));
    expect(sell.status).toBe(202);
    const accepted = (await sell.json()) as { alert: string; operation: string };
    expect(accepted.operation).toBe('pause');
    expect(await processed(accepted.alert)).toBe(`${btcGrid} paused`);
    expect(await gridStatus(btcGrid)).toBe('paused');
    const note = await app.rt.queues.notifications.getJob(`nt-${app.rt.jobTag}-tv-${accepted.alert}`);
    expect(note?.data).toMatchObject({
      category: 'tradingview',
      title: 'TradingView sell BTCUSDT @ 97250 (resistance)',
      lines: [`${btcGrid} paused`],
    });
    const [audit] = (await app.rt.ds.query(
      `SELECT actor, via, role, action, target, outcome FROM audit_log WHERE action = 'pause' ORDER BY id DESC LIMIT 1`,
    )) as Record<string, string>[];
    expect(audit).toEqual({
      actor: 'tradingview',
      via: 'webhook',
      role: 'operator',
      action: 'pause',
      target: btcGrid,
      outcome: 'ok',
    });

    // TradingView sends text/plain when the user's template is not JSON to its eyes; the JSON inside still counts.
    const buy = await post(alert({ symbol: 'BTCUSDT', action: 'long' }), 'text/plain; charset=utf-8');
    expect(buy.status).toBe(202);
    expect(await processed(((await buy.json()) as { alert: string }).alert)).toBe(`${btcGrid} resumed`);
    expect(await gridStatus(btcGrid)).toBe('running');

    // A repeat of where the grid already is changes nothing and says so.
    const again = await post(alert({ symbol: 'BTCUSDT', action: 'buy', id: 'again-1' }));
    expect(await processed(((await again.json()) as { alert: string }).alert)).toBe(
      `${btcGrid} already running`,
    );

    const none = await post(alert({ symbol: 'ETHUSDT', action: 'sell' }));
    expect(await processed(((await none.json()) as { alert: string }).alert)).toBe(
      'no active grid on ETHUSDT',
    );
  });

  it('a duplicate (the same id, or the same body within the window) is acknowledged and not acted on twice', async () => {
    const [before] = await alertRows();
    const first = await post(alert({ symbol: 'ETHUSDT', action: 'buy', id: 'tv-order-77' }));
    const second = await post(alert({ symbol: 'ETHUSDT', action: 'buy', id: 'tv-order-77', price: 1 }));
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    const a = (await first.json()) as { alert: string };
    expect(await second.json()).toEqual({ status: 'duplicate', alert: a.alert });

    const body = alert({ symbol: 'ETHUSDT', action: 'sell', zone: 'same body' });
    expect((await post(body)).status).toBe(202);
    const repeat = await post(body, 'text/plain');
    expect(repeat.status).toBe(200);
    expect(await repeat.json()).toEqual({ status: 'duplicate', alert: null });
    expect((await alertRows())[0].n).toBe(before.n + 2);

    // With no window, the same body twice is two alerts.
    const noWindow = await startTestHttp(app.rt, { TV_DEDUPE_WINDOW_MS: 0 });
    try {
      const twice = alert({ symbol: 'ETHUSDT', action: 'sell', zone: 'no window' });
      expect((await post(twice, 'application/json', noWindow.url)).status).toBe(202);
      expect((await post(twice, 'application/json', noWindow.url)).status).toBe(202);
    } finally {
      await noWindow.close();
    }
  });

  it('alerts of one symbol are applied in the order they arrived', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await post(
        alert({ symbol: 'BTCUSDT', action: i % 2 === 0 ? 'sell' : 'buy', id: `order-${i}` }),
      );
      ids.push(((await res.json()) as { alert: string }).alert);
    }
    const outcomes = [];
    for (const id of ids) outcomes.push(await processed(id));
    expect(outcomes).toEqual(ids.map((_, i) => `${btcGrid} ${i % 2 === 0 ? 'paused' : 'resumed'}`));
    expect(await gridStatus(btcGrid)).toBe('running');
  });

  it('a burst is applied in one run, TV_APPLY_DELAY_MS after its first alert, and told as one message', async () => {
    const delayMs = 2000;
    const burst = await startTestHttp(app.rt, { TV_APPLY_DELAY_MS: delayMs });
    const applyRuns = async () =>
      (await app.rt.queues.alerts.getJobs(['delayed', 'waiting', 'active', 'completed'])).filter(
        (j) => j.name === 'alerts',
      ).length;
    const runsBefore = await applyRuns();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await post(
          alert({ symbol: 'BTCUSDT', action: i % 2 === 0 ? 'sell' : 'buy', id: `burst-${i}` }),
          'application/json',
          burst.url,
        );
        expect(res.status).toBe(202);
        ids.push(((await res.json()) as { alert: string }).alert);
      }
      // Recorded and answered at once; the queue is told once, after the delay, for all six.
      const unprocessed = (await app.rt.ds.query(
        `SELECT count(*)::int AS n FROM alert WHERE id = ANY($1::bigint[]) AND NOT processed`,
        [ids],
      )) as [{ n: number }];
      expect(unprocessed[0].n).toBe(ids.length);
      expect(await applyRuns()).toBe(runsBefore);

      const outcomes = [];
      for (const id of ids) outcomes.push(await processed(id));
      expect(outcomes).toEqual(ids.map((_, i) => `${btcGrid} ${i % 2 === 0 ? 'paused' : 'resumed'}`));
      const [{ waitedMs }] = (await app.rt.ds.query(
        `SELECT (extract(epoch FROM min(processed_at) - min(created_at)) * 1000)::int AS "waitedMs"
           FROM alert WHERE id = ANY($1::bigint[])`,
        [ids],
      )) as [{ waitedMs: number }];
      expect(waitedMs).toBeGreaterThanOrEqual(delayMs - 50);
      expect(await applyRuns()).toBe(runsBefore + 1);
      const digest = await app.rt.queues.notifications.getJob(
        `nt-${app.rt.jobTag}-tv-${ids[0]}-${ids.at(-1)}`,
      );
      expect(digest?.data).toMatchObject({ title: 'TradingView: 6 alerts (BTCUSDT)' });
    } finally {
      await burst.close();
    }
  });

  it('at shutdown the queue is told at once of what was recorded, however long the delay', async () => {
    const slow = await startTestHttp(app.rt, { TV_APPLY_DELAY_MS: 5000 });
    const res = await post(
      alert({ symbol: 'BTCUSDT', action: 'sell', id: 'at-shutdown' }),
      'application/json',
      slow.url,
    );
    const { alert: id } = (await res.json()) as { alert: string };
    const t0 = performance.now();
    await slow.close();
    expect(await processed(id)).toBe(`${btcGrid} paused`);
    expect(performance.now() - t0).toBeLessThan(4000);
    await app.rt.grids.resume(OPERATOR, btcGrid);
    await settle(app.rt);
  });

  it('the route is off without TV_PASSPHRASE and says so', async () => {
    const off = await startTestHttp(app.rt, { TV_PASSPHRASE: undefined });
    try {
      const res = await post(alert({ symbol: 'BTCUSDT', action: 'sell' }), 'application/json', off.url);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({
        error: 'the TradingView webhook is disabled: set TV_PASSPHRASE to enable it',
        code: 'disabled',
      });
    } finally {
      await off.close();
    }
  });

  it('senders outside TV_ALLOWED_IPS get 403; past the rate limit, 429 with Retry-After', async () => {
    const [before] = await alertRows();
    const tvOnly = await startTestHttp(app.rt, {
      TV_ALLOWED_IPS: '52.89.214.238,34.212.75.30,54.218.53.128,52.32.178.7',
    });
    const limited = await startTestHttp(app.rt, { TV_RATE_LIMIT: 2, TV_ALLOWED_IPS: '127.0.0.0/8' });
    try {
      const forbidden = await post(
        alert({ symbol: 'BTCUSDT', action: 'sell' }),
        'application/json',
        tvOnly.url,
      );
      expect(forbidden.status).toBe(403);
      expect(((await forbidden.json()) as { code: string }).code).toBe('forbidden');
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        const res = await post('not even json', 'application/json', limited.url);
        statuses.push(res.status);
        if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      expect(statuses).toEqual([400, 400, 429, 429]);
    } finally {
      await tvOnly.close();
      await limited.close();
    }
    expect((await alertRows())[0].n).toBe(before.n);
  });

  it('the sweep applies recorded alerts that never reached the queue, in order, told as one message; a second run does nothing', async () => {
    const processor = new AlertProcessor({
      store: new PgAlertStore(app.rt.ds),
      grids: app.rt.grids,
      notifier: new QueueNotifier(app.rt.queues.notifications, app.rt.jobTag),
      log: app.rt.log,
    });
    // As if the process died between recording the alerts and queueing them.
    const rows = (await app.rt.ds.query(
      `INSERT INTO alert (source, symbol, type, payload, created_at)
       SELECT 'tradingview', 'BTCUSDT', a, jsonb_build_object('symbol', 'BTCUSDT', 'action', a), now() - interval '1 minute'
         FROM unnest(ARRAY['sell', 'buy', 'short']) AS a
       RETURNING id::text`,
    )) as { id: string }[];
    // The running worker's scheduled sweep may get there first (it runs the same code): one of them applies all three.
    expect([0, 3]).toContain(await processor.sweep(10_000));
    const outcomes = [];
    for (const r of rows) outcomes.push(await processed(r.id));
    expect(outcomes).toEqual([`${btcGrid} paused`, `${btcGrid} resumed`, `${btcGrid} paused`]);
    const digest = await app.rt.queues.notifications.getJob(
      `nt-${app.rt.jobTag}-tv-${rows[0]!.id}-${rows[2]!.id}`,
    );
    expect(digest?.data).toMatchObject({
      category: 'tradingview',
      title: 'TradingView: 3 alerts (BTCUSDT)',
      lines: [
        `#${rows[0]!.id} sell: ${btcGrid} paused`,
        `#${rows[1]!.id} buy: ${btcGrid} resumed`,
        `#${rows[2]!.id} short: ${btcGrid} paused`,
      ],
    });
    // A redelivered job, or another sweep, finds nothing left to do.
    const audits = async () =>
      ((await app.rt.ds.query(`SELECT count(*)::int AS n FROM audit_log`)) as [{ n: number }])[0].n;
    const before = await audits();
    expect(await processor.process()).toBe(0);
    expect(await processor.sweep(0)).toBe(0);
    expect(await audits()).toBe(before);
    await app.rt.grids.resume(OPERATOR, btcGrid);
  });

  it('close stops every grid of the symbol; an alert naming a grid acts on that grid only', async () => {
    const ids: string[] = [];
    for (const name of ['eth-a', 'eth-b']) {
      const g = await app.rt.grids.create(OPERATOR, {
        name,
        symbol: 'ETHUSDT',
        lower: '3000',
        upper: '4000',
        grids: 5,
        investment: '1000',
      });
      if (!g.ok) throw new Error(g.error.message);
      ids.push(g.value.id);
    }
    await settle(app.rt);
    const named = await post(alert({ symbol: 'ETHUSDT', action: 'short', grid: 'eth-a' }));
    expect(await processed(((await named.json()) as { alert: string }).alert)).toBe(`${ids[0]} paused`);
    expect(await gridStatus(ids[1]!)).toBe('running');
    const close = await post(alert({ symbol: 'ETHUSDT', action: 'close' }));
    expect(await processed(((await close.json()) as { alert: string }).alert)).toBe(
      `${ids[0]} stopped; ${ids[1]} stopped`,
    );
    expect([await gridStatus(ids[0]!), await gridStatus(ids[1]!)]).toEqual(['stopped', 'stopped']);
    const later = await post(alert({ symbol: 'ETHUSDT', action: 'buy', grid: 'eth-a' }));
    expect(await processed(((await later.json()) as { alert: string }).alert)).toBe(
      'no active grid eth-a on ETHUSDT',
    );
  });
});
