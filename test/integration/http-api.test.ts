import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { startApi } from '../../src/composition/api-role.js';
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/log/logger.js';
import { type FakeCoinGecko, startFakeCoinGecko } from '../fakes/coingecko/server.js';
import { movePrice, settle, startTestApp, type TestApp } from '../support/app.js';
import {
  bearer,
  HTTP_ENV,
  OPERATOR_TOKEN,
  READONLY_TOKEN,
  startTestHttp,
  type TestHttp,
} from '../support/http.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'ops', via: 'cli', role: 'operator' };
const DECIMAL = /^-?\d+(\.\d+)?$/;

/** Every route of the REST API: method, path, and a body for the writes. */
const ROUTES: { method: 'GET' | 'POST'; path: string; body?: unknown }[] = [
  { method: 'GET', path: '/api/whoami' },
  { method: 'GET', path: '/api/grids' },
  { method: 'GET', path: '/api/grids/BTCUSDT' },
  {
    method: 'POST',
    path: '/api/grids',
    body: { symbol: 'ETHUSDT', lower: '3000', upper: '4000', grids: 5, investment: '500' },
  },
  { method: 'POST', path: '/api/grids/BTCUSDT/start' },
  { method: 'POST', path: '/api/grids/BTCUSDT/pause' },
  { method: 'POST', path: '/api/grids/BTCUSDT/resume' },
  { method: 'POST', path: '/api/grids/BTCUSDT/stop' },
  { method: 'GET', path: '/api/risk' },
  { method: 'POST', path: '/api/kill', body: { reason: 'test' } },
  { method: 'POST', path: '/api/reset' },
  { method: 'POST', path: '/api/deliveries/retry' },
  { method: 'GET', path: '/api/prices' },
  { method: 'GET', path: '/api/trades' },
  { method: 'GET', path: '/api/trades.csv' },
  { method: 'GET', path: '/api/alerts' },
  { method: 'GET', path: '/api/pnl?period=week' },
  { method: 'GET', path: '/api/pnl.png' },
  { method: 'GET', path: '/api/market' },
];

describe('REST API', () => {
  let db: TestDatabase;
  let app: TestApp;
  let http: TestHttp;
  let coingecko: FakeCoinGecko;
  let gridId: string;

  const call = (
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
    server: TestHttp = http,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...headers,
        ...(token ? bearer(token) : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const json = async (method: string, path: string, body?: unknown) => {
    const res = await call(method, path, OPERATOR_TOKEN, body);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    coingecko = await startFakeCoinGecko();
    app = await startTestApp({
      databaseUrl: db.url,
      prefix: testPrefix(),
      env: { ...HTTP_ENV, COINGECKO_URL: coingecko.url },
    });
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
    gridId = g.value.id;
    await settle(app.rt);
    await movePrice(app.rt, 'BTCUSDT', '97900');
    await app.rt.monitor.evaluate();
    http = await startTestHttp(app.rt);
  });
  afterAll(async () => {
    await http?.close();
    await app?.close();
    await coingecko?.close();
    await db?.drop();
  });

  it('covers every /api route the OpenAPI document lists', async () => {
    const doc = (await (await fetch(`${http.url}/docs/json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith('/api'))
      .flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    const tested = ROUTES.map(
      (r) => `${r.method} ${r.path.split('?')[0]!.replace('BTCUSDT', '{symbol}')}`,
    ).sort();
    expect(tested).toEqual(documented);
  });

  it('no token or a wrong one: 401 everywhere; the read-only token reads, and gets 403 on every write', async () => {
    const before = await json('GET', '/api/grids');
    // Wrong tokens count against their address (429 after ten): each comes from its own, through a trusted proxy.
    const guessing = await startTestHttp(app.rt, { HTTP_TRUST_PROXY: '127.0.0.1' });
    let n = 0;
    for (const route of ROUTES) {
      for (const token of [null, 'not-the-token-0123456789', `${OPERATOR_TOKEN}x`]) {
        const res = await call(route.method, route.path, token, route.body, guessing, {
          'x-forwarded-for': `198.51.100.${++n}`,
        });
        expect({ route: route.path, status: res.status }).toEqual({ route: route.path, status: 401 });
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(await res.json()).toMatchObject({ code: 'unauthorized' });
      }
      const res = await call(route.method, route.path, READONLY_TOKEN, route.body);
      const expected = route.method === 'GET' ? 200 : 403;
      expect({ route: route.path, status: res.status }).toEqual({ route: route.path, status: expected });
    }
    await guessing.close();
    // Nothing a refused call asked for happened.
    expect(await json('GET', '/api/grids')).toEqual(before);
    expect((await json('GET', '/api/risk')).body.killed).toBe(false);
  });

  it('grids, risk, prices, trades and P/L in the documented shapes, money as decimal strings', async () => {
    const { body } = await json('GET', '/api/grids');
    const [grid] = body.grids as Record<string, unknown>[];
    expect(grid).toMatchObject({
      id: gridId,
      symbol: 'BTCUSDT',
      status: 'running',
      grids: 10,
      mode: 'arithmetic',
    });
    for (const field of ['lower', 'upper', 'investment', 'realizedPnl', 'unrealizedPnl', 'baseQty', 'fees']) {
      expect(grid![field]).toMatch(DECIMAL);
    }
    expect(grid!.openOrders).toBe(10);
    expect((await json('GET', `/api/grids/${gridId}`)).body).toEqual(grid);
    expect((await json('GET', '/api/grids/BTCUSDT')).body.id).toBe(gridId);

    const risk = (await json('GET', '/api/risk')).body;
    expect(risk).toMatchObject({
      killed: false,
      killedAt: null,
      trigger: null,
      breakers: [],
      lastIncident: null,
    });
    expect(risk.drawdownPct).toMatch(DECIMAL);
    expect(risk.errorRate).toMatch(DECIMAL);

    expect((await json('GET', '/api/prices')).body.prices).toEqual([
      { symbol: 'BTCUSDT', price: '97900', at: expect.any(String) },
      { symbol: 'ETHUSDT', price: '3500', at: expect.any(String) },
    ]);
    const trades = (await json('GET', '/api/trades?limit=2&symbol=btcusdt')).body.trades as Record<
      string,
      string
    >[];
    expect(trades).toHaveLength(2);
    expect(trades[0]).toMatchObject({ gridId, symbol: 'BTCUSDT', side: 'buy', price: '98000' });
    expect(trades[0]!.net).toMatch(DECIMAL);
    const pnl = (await json('GET', '/api/pnl?period=day')).body;
    expect(pnl).toMatchObject({ period: 'day', fills: expect.any(Number) });
    expect(pnl.net).toMatch(DECIMAL);
    expect((pnl.points as unknown[]).length).toBeGreaterThanOrEqual(24);
    expect((await json('GET', '/api/pnl?period=year')).status).toBe(400);
    expect((await json('GET', '/api/trades?limit=0')).status).toBe(400);

    const png = await call('GET', '/api/pnl.png?period=day', READONLY_TOKEN);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(
      Buffer.from(await png.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');

    const market = (await json('GET', '/api/market')).body;
    expect(market).toMatchObject({ available: true, error: null });
    expect((market.top as { symbol: string }[])[0]?.symbol).toBe('BTC');
    expect((market.trending as unknown[]).length).toBeGreaterThan(0);
  });

  it('creates grids and runs their lifecycle; refusals carry their status', async () => {
    const created = await json('POST', '/api/grids', {
      name: 'eth-api',
      symbol: 'ethusdt',
      lower: '3000',
      upper: '4000',
      grids: 5,
      investment: '500',
      start: false,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'eth-api',
      symbol: 'ETHUSDT',
      status: 'created',
      lower: '3000',
    });
    expect((await json('POST', '/api/grids/eth-api/start')).body.status).toBe('running');
    expect((await json('POST', '/api/grids/eth-api/pause')).body.status).toBe('paused');
    expect((await json('POST', '/api/grids/eth-api/resume')).body.status).toBe('running');
    expect((await json('POST', '/api/grids/eth-api/stop')).body.status).toBe('stopped');
    expect(await json('POST', '/api/grids/eth-api/resume')).toMatchObject({
      status: 409,
      body: { code: 'conflict' },
    });
    expect(await json('GET', '/api/grids/g999')).toMatchObject({ status: 404, body: { code: 'not-found' } });
    expect(
      await json('POST', '/api/grids', {
        symbol: 'DOGEUSDT',
        lower: '1',
        upper: '2',
        grids: 5,
        investment: '10',
      }),
    ).toMatchObject({ status: 422, body: { error: 'unknown symbol DOGEUSDT', code: 'invalid' } });
    const bad = await json('POST', '/api/grids', { symbol: 'ETHUSDT', lower: {}, grids: 'x' });
    expect(bad).toMatchObject({ status: 400, body: { code: 'invalid' } });
    const notJson = await fetch(`${http.url}/api/grids`, {
      method: 'POST',
      headers: { ...bearer(OPERATOR_TOKEN), 'content-type': 'application/json' },
      body: '{"symbol":',
    });
    expect(notJson.status).toBe(400);
  });

  it('the kill switch from the API, and its reset', async () => {
    const killed = await json('POST', '/api/kill', { reason: 'api test' });
    expect(killed.status).toBe(200);
    expect(killed.body).toMatchObject({
      trigger: 'api test',
      actor: 'rest:api-operator',
      outcome: 'all-cancelled',
    });
    await app.rt.risk.settled();
    expect((await json('GET', '/api/risk')).body).toMatchObject({
      killed: true,
      trigger: 'api test',
      lastIncident: { trigger: 'api test' },
    });
    expect((await json('GET', `/api/grids/${gridId}`)).body.status).toBe('stopped');
    expect((await json('POST', '/api/reset')).body).toEqual({ killed: false });
    expect(await json('POST', '/api/reset')).toMatchObject({ status: 409 });
  });

  it('serves the OpenAPI document and its UI at /docs, generated from the schemas', async () => {
    expect((await fetch(`${http.url}/docs/`)).status).toBe(200);
    const doc = (await (await fetch(`${http.url}/docs/json`)).json()) as {
      components: { schemas: Record<string, { required: string[] }>; securitySchemes: unknown };
    };
    expect(doc.components.securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer' } });
    expect(doc.components.schemas.Grid?.required).toEqual(
      expect.arrayContaining(['id', 'symbol', 'status', 'lower', 'upper', 'grids', 'mode', 'investment']),
    );
    expect(doc.components.schemas.Risk?.required).toEqual(
      expect.arrayContaining(['killed', 'killedAt', 'trigger', 'drawdownPct', 'errorRate', 'breakers']),
    );
  });

  it('/metrics in Prometheus format, for either token', async () => {
    expect((await call('GET', '/metrics', null)).status).toBe(401);
    const res = await call('GET', '/metrics', READONLY_TOKEN);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    for (const line of [
      /^gridops_queue_jobs\{queue="alerts",state="waiting"\} \d+$/m,
      /^gridops_job_latency_seconds\{queue="grid-events",quantile="0.99"\} [\d.e-]+$/m,
      /^gridops_fills_total\{symbol="BTCUSDT",side="buy"\} \d+$/m,
      /^gridops_realized_pnl_quote\{grid="g\d+",symbol="BTCUSDT"\} -?[\d.e-]+$/m,
      /^gridops_exchange_error_rate_pct [\d.]+$/m,
      /^gridops_kill_switch 0$/m,
      /^gridops_grids\{status="stopped"\} \d+$/m,
      /^# TYPE gridops_webhook_requests_total counter$/m,
    ]) {
      expect(text).toMatch(line);
    }
  });

  it('the queue board: operators only, by bearer token or by the cookie its sign-in sets', async () => {
    const board = (headers: Record<string, string>) =>
      fetch(`${http.url}/queues/`, { headers, redirect: 'manual' });
    expect((await board({})).status).toBe(401);
    const browser = await board({ accept: 'text/html' });
    expect([browser.status, browser.headers.get('location')]).toEqual([303, '/queues/login']);
    expect((await board(bearer(READONLY_TOKEN))).status).toBe(403);
    expect((await board(bearer(OPERATOR_TOKEN))).status).toBe(200);

    const signIn = (token: string) =>
      fetch(`${http.url}/queues/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
        redirect: 'manual',
      });
    expect((await signIn('wrong')).status).toBe(401);
    expect((await signIn(READONLY_TOKEN)).status).toBe(403);
    const ok = await signIn(OPERATOR_TOKEN);
    expect(ok.status).toBe(303);
    const cookie = ok.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    expect(cookie).not.toContain(OPERATOR_TOKEN);
    const queues = await fetch(`${http.url}/queues/api/queues`, {
      headers: { cookie: cookie.split(';')[0]! },
    });
    expect(queues.status).toBe(200);
    const names = ((await queues.json()) as { queues: { name: string }[] }).queues.map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining(['grid-events', 'prices', 'alerts', 'notifications']));
    const forged = await fetch(`${http.url}/queues/api/queues`, {
      headers: { cookie: 'gridops_board=forged' },
    });
    expect(forged.status).toBe(401);
  });

  it('without API_TOKEN: listens on loopback only and says so; nobody is asked for a token', async () => {
    const lines: string[] = [];
    const log = createLogger({
      level: 'info',
      format: 'json',
      isTty: false,
      destination: { write: (line: string) => void lines.push(line) },
    });
    const config = {
      ...app.rt.config,
      API_TOKEN: undefined,
      API_READONLY_TOKEN: undefined,
      HTTP_HOST: '0.0.0.0',
      HTTP_PORT: 0,
    } as unknown as Config;
    const api = await startApi({ ...app.rt, config, log });
    try {
      expect(api.address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(lines.join('')).toContain(
        'API_TOKEN is unset: the API and dashboard need no token, so HTTP listens on 127.0.0.1 only (not 0.0.0.0)',
      );
      expect(await (await fetch(`${api.address}/api/whoami`)).json()).toEqual({
        role: 'operator',
        auth: 'none',
      });
    } finally {
      await api.stop();
    }
  });
});
