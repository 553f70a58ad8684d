import { createServer, request as httpRequest, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READINESS_EVERY_MS, ReadinessProbe } from '../../src/app/readiness.js';
import { httpServices } from '../../src/composition/api-role.js';
import type { Config } from '../../src/config.js';
import { RedisCallStats } from '../../src/db/call-stats-store.js';
import { RedisReadinessRecords } from '../../src/db/readiness-store.js';
import { asProbe, CallStatsRecorder } from '../../src/exchange/call-stats.js';
import { buildHttpServer } from '../../src/http/server.js';
import { QueueNotifier } from '../../src/jobs/bus.js';
import { createLogger } from '../../src/log/logger.js';
import { startTestApp, type TestApp } from '../support/app.js';
import {
  bearer,
  HTTP_ENV,
  OPERATOR_TOKEN,
  PASSPHRASE,
  READONLY_TOKEN,
  startTestHttp,
  type TestHttp,
} from '../support/http.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const HOUR = 3_600_000;
const OPEN = { API_TOKEN: undefined, API_READONLY_TOKEN: undefined, TV_PASSPHRASE: undefined };

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json(): Record<string, unknown>;
}

/** A request with exactly these headers (fetch would not send a foreign Host), to the server at `base`. */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers: { host: url.host, ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The HTTP security of the api role: what is exposed without a token and with one. */
describe('HTTP exposure', () => {
  let db: TestDatabase;
  let app: TestApp;
  let http: TestHttp;
  let open: TestHttp;
  let receiver: Server;
  const received: string[] = [];
  const answers: number[] = [];

  const killed = async () => (await app.rt.risk.state()).killed;
  const reset = async () => {
    if (await killed()) {
      const r = await app.rt.risk.reset({ id: 'test', via: 'cli', role: 'operator' });
      if (!r.ok) throw new Error(r.error.message);
    }
  };

  beforeAll(async () => {
    // The outgoing webhook is the destination whose failed deliveries the retry route sends again.
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push(String(req.headers['x-gridops-key']));
        res.statusCode = answers.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const { port } = receiver.address() as AddressInfo;
    db = await createTestDatabase();
    app = await startTestApp({
      databaseUrl: db.url,
      prefix: testPrefix(),
      bot: true,
      env: {
        ...HTTP_ENV,
        NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`,
        NOTIFY_WEBHOOK_SECRET: 'a-shared-secret-of-some-length',
      },
    });
    http = await startTestHttp(app.rt);
    open = await startTestHttp(app.rt, OPEN);
  });
  afterAll(async () => {
    await open?.close();
    await http?.close();
    await app?.close();
    await db?.drop();
    await new Promise((r) => receiver?.close(r));
  });

  describe('without API_TOKEN: this machine only', () => {
    const port = () => new URL(open.url).port;

    // Protects: a reverse proxy put in front of an open server would publish the whole API to the internet.
    it('refuses a request that came through a proxy', async () => {
      for (const headers of [
        { 'x-forwarded-for': '203.0.113.9' },
        { forwarded: 'for=203.0.113.9;proto=https' },
        { 'x-real-ip': '203.0.113.9' },
        { 'x-forwarded-host': 'gridops.example.com' },
      ]) {
        const res = await send(open.url, 'GET', '/api/grids', headers);
        expect(res.status).toBe(403);
        expect(res.json()).toMatchObject({ code: 'forbidden', error: expect.stringMatching(/proxy/) });
      }
      expect((await send(open.url, 'GET', '/metrics', { 'x-forwarded-for': '203.0.113.9' })).status).toBe(
        403,
      );
    });

    // Protects: DNS rebinding, where a web page's own host name comes to resolve to 127.0.0.1 and its script then
    // reads and drives the API with the page's Host.
    it('refuses a Host other than localhost, 127.0.0.1 or [::1] with its port', async () => {
      for (const host of [
        `evil.example:${port()}`,
        `127.0.0.1.nip.io:${port()}`,
        'evil.example',
        `127.0.0.1:${Number(port()) + 1}`,
        '127.0.0.1',
        `localhost.:${port()}`,
      ]) {
        const res = await send(open.url, 'GET', '/api/whoami', { host });
        expect({ host, status: res.status }).toEqual({ host, status: 403 });
        expect(res.json().error).toMatch(/is not this machine/);
      }
      const before = await killed();
      const post = await send(open.url, 'POST', '/api/kill', { host: `rebound.example:${port()}` });
      expect(post.status).toBe(403);
      expect(await killed()).toBe(before);
      for (const host of [
        `localhost:${port()}`,
        `127.0.0.1:${port()}`,
        `[::1]:${port()}`,
        `LOCALHOST:${port()}`,
      ]) {
        const res = await send(open.url, 'GET', '/api/whoami', { host });
        expect({ host, status: res.status }).toEqual({ host, status: 200 });
      }
    });

    // Protects: CSRF, where any page open in the operator's browser posts a kill, a reset or a resume (no body and no
    // preflight needed).
    it('refuses a change from another origin, and takes one from its own pages', async () => {
      await reset();
      for (const headers of [
        { origin: 'http://evil.example' },
        { origin: 'null' },
        { origin: `http://localhost:${port()}` }, // another origin than the Host the request names
        { 'sec-fetch-site': 'cross-site' },
      ]) {
        const res = await send(open.url, 'POST', '/api/kill', headers);
        expect(res.status).toBe(403);
        expect(res.json()).toMatchObject({ code: 'forbidden' });
      }
      expect(await killed()).toBe(false);
      // Reading is not a change: another origin may not read the answer anyway (no CORS).
      expect((await send(open.url, 'GET', '/api/whoami', { origin: 'http://evil.example' })).status).toBe(
        200,
      );
      // The page's own origin passes the guard (409: the kill switch is not on, so nothing to reset).
      const own = await send(open.url, 'POST', '/api/reset', {
        origin: `http://127.0.0.1:${port()}`,
        'sec-fetch-site': 'same-origin',
      });
      expect(own.status).toBe(409);
    });
  });

  describe('with API_TOKEN', () => {
    // Protects: "an emergency stop must be one plain curl": POST /api/kill with no body, and with an empty JSON body.
    it('POST /api/kill needs no body; the reason defaults to "manual kill via API"', async () => {
      await reset();
      const bare = await send(http.url, 'POST', '/api/kill', bearer(OPERATOR_TOKEN));
      expect(bare.status).toBe(200);
      expect(bare.json()).toMatchObject({ trigger: 'manual kill via API', actor: 'rest:api-operator' });
      expect(await killed()).toBe(true);
      await app.rt.risk.settled();
      await reset();
      const emptyJson = await send(
        http.url,
        'POST',
        '/api/kill',
        { ...bearer(OPERATOR_TOKEN), 'content-type': 'application/json' },
        '',
      );
      expect(emptyJson.status).toBe(200);
      expect(await killed()).toBe(true);
      await app.rt.risk.settled();
      await reset();
    });

    // Protects: a body the API cannot read as JSON (text/plain, which a cross-site form can send without a
    // preflight) reaching a route; before, text/plain was parsed and answered 400 by validation.
    it('takes only JSON bodies: anything else is 415 and changes nothing', async () => {
      await reset();
      for (const type of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
      ]) {
        const res = await send(
          http.url,
          'POST',
          '/api/kill',
          { ...bearer(OPERATOR_TOKEN), 'content-type': type },
          '{"reason":"by form"}',
        );
        expect({ type, status: res.status }).toEqual({ type, status: 415 });
        expect(res.json()).toMatchObject({ code: 'unsupported-type' });
      }
      expect(await killed()).toBe(false);
    });

    // Protects: grid references that would carry controls or markup into logs and messages.
    it('limits grid references in the API to letters, digits, space and _ . : -', async () => {
      const res = await fetch(`${http.url}/api/grids/${encodeURIComponent('g1\n<b>')}`, {
        headers: bearer(OPERATOR_TOKEN),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/may only hold letters, digits/);
      expect(
        (await fetch(`${http.url}/api/grids/no-such-grid`, { headers: bearer(OPERATOR_TOKEN) })).status,
      ).toBe(404);
    });

    // Protects: token guessing. After 10 wrong tokens within a minute an address is refused (429, right token or
    // not) until the minute is over; behind a trusted proxy, the address is the client's, not the proxy's.
    it('limits failed authentication per address', async () => {
      const proxied = await startTestHttp(app.rt, { HTTP_TRUST_PROXY: '127.0.0.1' });
      try {
        const from = (ip: string, token: string) =>
          send(proxied.url, 'GET', '/api/whoami', { ...bearer(token), 'x-forwarded-for': ip });
        // Successes do not count.
        for (let i = 0; i < 12; i++) expect((await from('203.0.113.7', OPERATOR_TOKEN)).status).toBe(200);
        for (let i = 0; i < 10; i++)
          expect((await from('203.0.113.7', `wrong-token-${i}-0123456789ab`)).status).toBe(401);
        const refused = await from('203.0.113.7', OPERATOR_TOKEN);
        expect(refused.status).toBe(429);
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
        expect(refused.json()).toMatchObject({ code: 'rate-limited' });
        // Every door that takes a token is shut to it: the board, its sign-in, the metrics.
        expect(
          (
            await send(proxied.url, 'GET', '/metrics', {
              ...bearer(READONLY_TOKEN),
              'x-forwarded-for': '203.0.113.7',
            })
          ).status,
        ).toBe(429);
        const signIn = await send(
          proxied.url,
          'POST',
          '/queues/login',
          { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.7' },
          new URLSearchParams({ token: OPERATOR_TOKEN }).toString(),
        );
        expect(signIn.status).toBe(429);
        // Another client behind the same proxy is not locked out.
        expect((await from('203.0.113.8', OPERATOR_TOKEN)).status).toBe(200);
      } finally {
        await proxied.close();
      }
    });
  });

  describe('the queue board', () => {
    const signIn = async () => {
      const res = await send(
        http.url,
        'POST',
        '/queues/login',
        { 'content-type': 'application/x-www-form-urlencoded' },
        new URLSearchParams({ token: OPERATOR_TOKEN }).toString(),
      );
      expect(res.status).toBe(303);
      const setCookie = String(res.headers['set-cookie']);
      expect(setCookie).toMatch(/HttpOnly; SameSite=Strict; Max-Age=43200/);
      return setCookie.split(';')[0]!;
    };

    // Protects: the board's cookie adding a price job (a grid stops out and sells), forging fills, retrying or
    // cleaning jobs, pausing queues or removing the risk-check scheduler, unaudited. Before, all were open to it.
    it('is read-only: every write is refused, by cookie or by bearer token; reads still work', async () => {
      const cookie = await signIn();
      const pricesBefore = await app.rt.queues.prices.getJobCounts();
      const schedulersBefore = (await app.rt.queues.maintenance.getJobSchedulers()).map((s) => s.key).sort();
      const writes: [string, string, string | undefined][] = [
        [
          'POST',
          '/queues/api/queues/prices/add',
          JSON.stringify({ name: 'price', data: { symbol: 'BTCUSDT', price: '1' } }),
        ],
        ['PUT', '/queues/api/queues/alerts/pause', undefined],
        ['PUT', '/queues/api/queues/pause', undefined],
        ['PUT', '/queues/api/queues/deliveries/retry/failed', undefined],
        ['PUT', '/queues/api/queues/grid-events/clean/completed', undefined],
        ['PUT', '/queues/api/queues/maintenance/promote', undefined],
        ['PUT', '/queues/api/queues/maintenance/job-schedulers/risk-check/remove', undefined],
        [
          'PATCH',
          '/queues/api/queues/maintenance/job-schedulers/risk-check',
          JSON.stringify({ every: 3_600_000 }),
        ],
        ['PUT', '/queues/api/queues/prices/obliterate', JSON.stringify({ force: true })],
      ];
      for (const auth of [{ cookie }, bearer(OPERATOR_TOKEN)]) {
        for (const [method, path, body] of writes) {
          const res = await send(
            http.url,
            method,
            path,
            { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) },
            body,
          );
          expect({ method, path, status: res.status }).toEqual({ method, path, status: 405 });
        }
      }
      expect(await app.rt.queues.alerts.isPaused()).toBe(false);
      expect(await app.rt.queues.prices.getJobCounts()).toEqual(pricesBefore);
      expect((await app.rt.queues.maintenance.getJobSchedulers()).map((s) => s.key).sort()).toEqual(
        schedulersBefore,
      );
      const list = await send(http.url, 'GET', '/queues/api/queues', { cookie });
      expect(list.status).toBe(200);
      const queues = (list.json() as { queues: { name: string; readOnlyMode: boolean }[] }).queues;
      expect(queues.length).toBeGreaterThan(0);
      // The board's own UI shows no write buttons either.
      expect(queues.every((q) => q.readOnlyMode)).toBe(true);
    });

    // Protects: a board session that never ended (the cookie was a fixed HMAC of the token), and no way to sign out.
    it('a session lasts 12 hours and can be signed out', async () => {
      const read = (cookie: string) => send(http.url, 'GET', '/queues/api/queues', { cookie });
      const fresh = `gridops_board=${http.server.auth.boardCookieValue(Date.now() - 60_000)}`;
      expect((await read(fresh)).status).toBe(200);
      const old = `gridops_board=${http.server.auth.boardCookieValue(Date.now() - 13 * HOUR)}`;
      expect((await read(old)).status).toBe(401);
      // The issue time cannot be moved: the HMAC covers it.
      const moved = `gridops_board=${Date.now()}.${old.split('.')[1]}`;
      expect((await read(moved)).status).toBe(401);

      const cookie = await signIn();
      const page = await send(http.url, 'GET', '/queues/logout', { cookie });
      expect(page.status).toBe(200);
      expect(page.text).toMatch(/<form method="post" action="\/queues\/logout">/);
      const out = await send(http.url, 'POST', '/queues/logout', {
        cookie,
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(out.status).toBe(303);
      expect(out.headers.location).toBe('/queues/login');
      expect(String(out.headers['set-cookie'])).toMatch(
        /^gridops_board=; Path=\/queues; HttpOnly; SameSite=Strict; Max-Age=0/,
      );
    });

    // Protects: a cookie alone authorizing a change anywhere (it only ever reads the board).
    it('its cookie authorizes no change in the API', async () => {
      await reset();
      const cookie = await signIn();
      const res = await send(http.url, 'POST', '/api/kill', { cookie });
      expect(res.status).toBe(401);
      expect(await killed()).toBe(false);
    });
  });

  describe('health and readiness', () => {
    // Protects: /readyz asked the exchange on every request (a flood stalled the API behind the client's throttle and
    // filled the error-rate window the kill switch reads), and answered anyone with raw error text.
    it('200 readiness requests make at most a few exchange calls, and say only ready or not without a token', async () => {
      const exchange = app.rt.exchange;
      const original = exchange.balances.bind(exchange);
      let calls = 0;
      exchange.balances = async () => {
        calls++;
        return original();
      };
      try {
        // The worker records its first check at start; wait for it, then flood.
        await expect
          .poll(async () => (await fetch(`${http.url}/readyz`)).status, { timeout: 15_000 })
          .toBe(200);
        calls = 0;
        const started = Date.now();
        const answers = await Promise.all(
          Array.from({ length: 200 }, () =>
            fetch(`${http.url}/readyz`).then(async (r) => [r.status, await r.text()]),
          ),
        );
        // The worker's own check, once per period (however slow this machine is today); none from the requests.
        expect(calls).toBeLessThanOrEqual(1 + Math.ceil((Date.now() - started) / READINESS_EVERY_MS));
        expect(new Set(answers.map(([s, t]) => `${s} ${t}`))).toEqual(new Set(['200 {"status":"ready"}']));
      } finally {
        exchange.balances = original;
      }
      const detailed = await fetch(`${http.url}/readyz`, { headers: bearer(READONLY_TOKEN) });
      expect(await detailed.json()).toEqual({
        status: 'ready',
        checks: { postgres: 'ok', redis: 'ok', worker: 'ok', exchange: 'ok' },
        ageMs: expect.any(Number),
      });
      expect(await (await fetch(`${http.url}/healthz`)).json()).toEqual({ status: 'ok' });
    });

    // Protects: an exchange error's text (a host, an address, a reason) reaching unauthenticated callers.
    it('an exchange that fails makes it not ready, with no error text in any answer', async () => {
      const prefix = testPrefix();
      const failing = {
        ...app.rt.exchange,
        balances: async () => {
          throw new Error('connect ECONNREFUSED 10.9.8.7:443 (secret-detail)');
        },
      } as typeof app.rt.exchange;
      const log = createLogger({ level: 'silent', format: 'json', isTty: false });
      const probe = new ReadinessProbe({
        records: new RedisReadinessRecords(app.rt.redis, prefix),
        log,
        checks: { exchange: () => failing.balances() },
      });
      await probe.refresh();
      const server = buildHttpServer(
        httpServices({ ...app.rt, config: { ...app.rt.config, QUEUE_PREFIX: prefix } as Config }),
      );
      const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
      try {
        const plain = await fetch(`${url}/readyz`);
        expect(plain.status).toBe(503);
        expect(await plain.text()).toBe('{"status":"not-ready"}');
        const detailed = await fetch(`${url}/readyz`, { headers: bearer(OPERATOR_TOKEN) });
        const text = await detailed.text();
        expect(text).not.toMatch(/ECONNREFUSED|10\.9\.8\.7|secret-detail/);
        expect(JSON.parse(text)).toMatchObject({
          status: 'not-ready',
          checks: { postgres: 'ok', redis: 'ok', worker: 'ok', exchange: 'down' },
        });
      } finally {
        await server.close();
      }
    });

    // Protects: readiness probes counting in the error rate the kill switch reads (a failing probe every few
    // seconds would have pulled it).
    it("the worker's exchange check is a probe: its calls do not count in the error rate", async () => {
      const stats = new CallStatsRecorder(new RedisCallStats(app.rt.redis, testPrefix()));
      await asProbe(async () => {
        stats.record({ ok: false, reason: 'ambiguous:timeout' });
        await new Promise((r) => setTimeout(r, 5));
        stats.record({ ok: false, reason: 'ambiguous:timeout' });
      });
      stats.record({ ok: true, reason: null });
      await expect.poll(async () => (await stats.read(60_000)).total).toBe(1);
      expect(await stats.read(60_000)).toMatchObject({ total: 1, ok: 1, failed: 0 });
    });
  });

  // Protects: a client that sends its headers and then stalls holding a socket (and a request) forever.
  it('drops a request whose body does not arrive within HTTP_REQUEST_TIMEOUT_MS', {
    timeout: 30_000,
  }, async () => {
    const slow = await startTestHttp(app.rt, { HTTP_REQUEST_TIMEOUT_MS: 1000 });
    try {
      const { hostname, port } = new URL(slow.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => {
          socket.write(
            `POST /api/kill HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${OPERATOR_TOKEN}\r\n` +
              'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"rea',
          );
        });
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (c: string) => {
          text += c;
        });
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(await killed()).toBe(false);
    } finally {
      await slow.close();
    }
  });

  describe('failed deliveries', () => {
    // Protects: the only way to resend a delivery that gave up was the board's retry button, unaudited. Now it is an
    // operator's API call (and CLI command), audited, that delivers the message once its cause is fixed.
    it('POST /api/deliveries/retry sends them again, for the operator only, audited', async () => {
      answers.push(410);
      await new QueueNotifier(app.rt.queues.notifications).notify({
        key: 'dl-retry-1',
        category: 'risk',
        severity: 'warning',
        title: 'Risk: delivered on the second try',
        lines: [],
      });
      await expect
        .poll(() => app.rt.ds.query(`SELECT notification_key FROM notification_failure`), { timeout: 10_000 })
        .toEqual([{ notification_key: 'dl-retry-1' }]);
      await expect.poll(() => app.rt.queues.deliveries.getFailedCount(), { timeout: 10_000 }).toBe(1);

      expect((await send(http.url, 'POST', '/api/deliveries/retry', bearer(READONLY_TOKEN))).status).toBe(
        403,
      );
      expect((await send(http.url, 'POST', '/api/deliveries/retry')).status).toBe(401);
      const res = await send(http.url, 'POST', '/api/deliveries/retry', bearer(OPERATOR_TOKEN));
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ retried: 1 });
      await expect.poll(() => received.filter((k) => k === 'dl-retry-1').length, { timeout: 10_000 }).toBe(2);
      await expect.poll(() => app.rt.queues.deliveries.getFailedCount()).toBe(0);
      expect(await app.rt.ds.query(`SELECT notification_key FROM notification_failure`)).toEqual([]);
      // Safe to run twice: nothing left to retry.
      expect((await send(http.url, 'POST', '/api/deliveries/retry', bearer(OPERATOR_TOKEN))).json()).toEqual({
        retried: 0,
      });
      const audits = await app.rt.ds.query(
        `SELECT actor, via, role, outcome, detail FROM audit_log WHERE action = 'retry-deliveries' ORDER BY id`,
      );
      // The read-only token was refused before the service (as on every route); the operator's calls are audited.
      expect(audits).toEqual([
        { actor: 'api-operator', via: 'rest', role: 'operator', outcome: 'ok', detail: { retried: 1 } },
        { actor: 'api-operator', via: 'rest', role: 'operator', outcome: 'ok', detail: { retried: 0 } },
      ]);
    });
  });

  it('the webhook refuses a zone holding a control character, in a text/plain alert too', async () => {
    const res = await fetch(`${http.url}/webhook/tradingview`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ passphrase: PASSPHRASE, symbol: 'BTCUSDT', action: 'buy', zone: 'a\nb' }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^zone may only hold/);
  });
});
