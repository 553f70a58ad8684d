import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { seededRandom } from '../../src/engine/random.js';
import { movePrice, settle, startTestApp, type TestApp } from '../support/app.js';
import { HTTP_ENV, PASSPHRASE, startTestHttp, type TestHttp } from '../support/http.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'ops', via: 'cli', role: 'operator' };
const BODIES = 12_000;
const CONCURRENCY = 16;

interface Hostile {
  readonly kind: string;
  readonly method: string;
  readonly contentType: string | null;
  readonly body: string | Uint8Array;
}

/**
 * Hostile requests, each bad by construction: a body that carries the right passphrase always has something else
 * wrong (an action or symbol that is not ours, a field of the wrong type, a NUL, a lone surrogate, deep nesting, a
 * size over the limit, a content type the route does not take), so not one of them may be recorded.
 */
function hostileRequests(count: number, seed: number): Hostile[] {
  const rnd = seededRandom(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const valid = () => ({
    symbol: 'BTCUSDT',
    action: pick(['buy', 'sell', 'close', 'long', 'short']),
    price: 97250.5,
  });
  const junkString = () =>
    pick([
      '',
      ' ',
      '{{ticker}}',
      '{{strategy.order.action}}',
      '{{close}}',
      'flat',
      'bᴜy',
      'ѕell',
      'buy\u0000',
      'buy sell',
      '\ud800',
      'x'.repeat(int(300)),
      '<script>alert(1)</script>',
      "'; DROP TABLE alert; --",
      '../../etc/passwd',
      '%00',
      '\u202ebuy',
      String.fromCharCode(...Array.from({ length: int(20) }, () => int(0xffff))),
    ]);
  const junkValue = (): unknown =>
    pick([
      null,
      true,
      0,
      -1,
      1.5,
      1e308,
      -1e-308,
      [],
      {},
      [null],
      { $gt: '' },
      junkString(),
      Array.from({ length: int(50) }, () => int(10)),
    ]);
  const badFields: (() => Record<string, unknown>)[] = [
    () => ({ action: junkValue() }),
    () => ({
      action: pick(['flat', 'hold', 'cancel', 'exit', 'BUY!', '', 'buy\u0000', 'resume', 'pause', 'stop']),
    }),
    () => ({ symbol: junkValue() }),
    () => ({
      symbol: pick(['DOGEUSDT', 'BTCUSDT.P', 'BTC/USDT', '{{ticker}}', 'BINANCE:', 'X', 'BTCUSDT\u0000']),
    }),
    () => ({
      price: pick(['{{close}}', 'NaN', '-1', '1,000.5', '1e5', ' ', '0x10', 'Infinity', -5, 1e300, [], {}]),
    }),
    () => ({ id: pick([{}, [], -1, 1.5, true, '', 'i'.repeat(129), 2 ** 60]) }),
    () => ({ grid: pick([1, '', 'g'.repeat(65), [], {}]) }),
    () => ({ zone: pick([1, {}, [], 'z'.repeat(65)]) }),
    () => ({ [`key\u0000${int(9)}`]: 'x' }),
    () => ({ zone: `half a pair \ud83d` }),
    () => ({ extra: nest(17 + int(40)) }),
  ];
  function nest(depth: number): unknown {
    let v: unknown = 'deep';
    for (let i = 0; i < depth; i++) v = rnd() < 0.5 ? [v] : { d: v };
    return v;
  }
  const jsonTypes = [
    'application/json',
    'text/plain',
    'application/json; charset=utf-8',
    'text/plain;charset=UTF-8',
  ];
  const otherTypes = [
    null,
    'application/xml',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    'text/html',
    'application/jsonp',
    'image/png',
  ];
  const generators: (() => Hostile)[] = [
    // The passphrase missing, wrong, or of the wrong type; everything else anything.
    () => {
      const body: Record<string, unknown> = { ...valid() };
      const p = int(4);
      if (p === 1) body.passphrase = junkString();
      if (p === 2) body.passphrase = junkValue();
      if (p === 3) body.passphrase = `${PASSPHRASE}${pick([' ', 'x', '\u0000', '\n'])}`;
      return { kind: 'passphrase', method: 'POST', contentType: pick(jsonTypes), body: JSON.stringify(body) };
    },
    // The right passphrase and one field made bad.
    () => ({
      kind: 'field',
      method: 'POST',
      contentType: pick(jsonTypes),
      body: JSON.stringify({ passphrase: PASSPHRASE, ...valid(), ...pick(badFields)() }),
    }),
    // The right passphrase and several bad fields at once.
    () => ({
      kind: 'fields',
      method: 'POST',
      contentType: pick(jsonTypes),
      body: JSON.stringify(
        Object.assign(
          { passphrase: PASSPHRASE, ...valid() },
          pick(badFields)(),
          pick(badFields)(),
          pick(badFields)(),
        ),
      ),
    }),
    // A valid alert cut short: an object without its closing brace is never JSON.
    () => {
      const text = JSON.stringify({ passphrase: PASSPHRASE, ...valid() });
      return {
        kind: 'truncated',
        method: 'POST',
        contentType: pick(jsonTypes),
        body: text.slice(0, int(text.length - 1)),
      };
    },
    // An alert of required fields only with one character changed: it breaks the JSON, a key (the field is then
    // missing) or a value (the passphrase, symbol or action is then wrong). Optional fields are left out, since a
    // changed optional key is merely an extra field.
    () => {
      const { price: _optional, ...required } = valid();
      const text = JSON.stringify({ passphrase: PASSPHRASE, ...required });
      const at = int(text.length);
      const replacement = pick(['\u0000', '"', '\\', '{', ']', ',,', 'Q'].filter((c) => c !== text[at]));
      return {
        kind: 'corrupted',
        method: 'POST',
        contentType: pick(jsonTypes),
        body: `${text.slice(0, at)}${replacement}${text.slice(at + 1)}`,
      };
    },
    // JSON that is not an object.
    () => ({
      kind: 'not-object',
      method: 'POST',
      contentType: pick(jsonTypes),
      body: JSON.stringify(pick([[{ passphrase: PASSPHRASE, ...valid() }], 'buy', 42, null, true, []])),
    }),
    // Later duplicate keys win in JSON.parse: the last passphrase or action is the bad one.
    () => ({
      kind: 'duplicate-keys',
      method: 'POST',
      contentType: pick(jsonTypes),
      body:
        rnd() < 0.5
          ? `{"passphrase":"${PASSPHRASE}","symbol":"BTCUSDT","action":"buy","passphrase":"nope"}`
          : `{"passphrase":"${PASSPHRASE}","symbol":"BTCUSDT","action":"buy","action":"flat"}`,
    }),
    // Prototype tricks: the action only in __proto__ or constructor is no action.
    () => ({
      kind: 'prototype',
      method: 'POST',
      contentType: pick(jsonTypes),
      body: pick([
        `{"passphrase":"${PASSPHRASE}","symbol":"BTCUSDT","__proto__":{"action":"buy"}}`,
        `{"passphrase":"${PASSPHRASE}","symbol":"BTCUSDT","constructor":{"prototype":{"action":"buy"}}}`,
        `{"__proto__":{"passphrase":"${PASSPHRASE}"},"symbol":"BTCUSDT","action":"buy"}`,
      ]),
    }),
    // Random bytes.
    () => ({
      kind: 'bytes',
      method: 'POST',
      contentType: pick([...jsonTypes, ...otherTypes]),
      body: Uint8Array.from({ length: int(2000) }, () => int(256)),
    }),
    // A valid alert in a content type the route does not take.
    () => ({
      kind: 'content-type',
      method: 'POST',
      contentType: pick(otherTypes),
      body: new TextEncoder().encode(JSON.stringify({ passphrase: PASSPHRASE, ...valid() })),
    }),
    // A valid alert padded past the body limit.
    () => ({
      kind: 'oversized',
      method: 'POST',
      contentType: pick(jsonTypes),
      body: JSON.stringify({ passphrase: PASSPHRASE, ...valid(), pad: 'p'.repeat(8200 + int(50_000)) }),
    }),
    // Other methods on the route.
    () => ({
      kind: 'method',
      method: pick(['GET', 'PUT', 'DELETE', 'PATCH']),
      contentType: 'application/json',
      body: pick(['', JSON.stringify({ passphrase: PASSPHRASE, ...valid() })]),
    }),
  ];
  return Array.from({ length: count }, () => pick(generators)());
}

describe('webhook fuzz', () => {
  let db: TestDatabase;
  let app: TestApp;
  let http: TestHttp;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp({ databaseUrl: db.url, prefix: testPrefix(), env: HTTP_ENV });
    await movePrice(app.rt, 'BTCUSDT', '100000');
    for (const symbol of ['BTCUSDT', 'BTCUSDT']) {
      const g = await app.rt.grids.create(OPERATOR, {
        symbol,
        lower: '90000',
        upper: '110000',
        grids: 10,
        investment: '1000',
      });
      if (!g.ok) throw new Error(g.error.message);
    }
    await app.rt.grids.pause(OPERATOR, 'g2');
    await settle(app.rt);
    http = await startTestHttp(app.rt);
  });
  afterAll(async () => {
    await http?.close();
    await app?.close();
    await db?.drop();
  });

  it(`${BODIES} hostile requests: no 5xx, nothing recorded or queued, no grid touched`, async () => {
    const grids = () => app.rt.ds.query(`SELECT * FROM grid ORDER BY id`);
    const before = await grids();
    const requests = hostileRequests(BODIES, 20261125);
    const statuses = new Map<number, number>();
    const byKind = new Map<string, Set<number>>();
    const unexpected: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < requests.length; i = next++) {
          const r = requests[i]!;
          const res = await fetch(`${http.url}/webhook/tradingview`, {
            method: r.method,
            headers: r.contentType === null ? {} : { 'content-type': r.contentType },
            ...(r.method === 'GET' ? {} : { body: r.body }),
          });
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          byKind.set(r.kind, (byKind.get(r.kind) ?? new Set()).add(res.status));
          let json: { error?: unknown } | null = null;
          try {
            json = JSON.parse(text) as { error?: unknown };
          } catch {
            json = null;
          }
          if (res.status >= 500 || res.status < 400 || typeof json?.error !== 'string') {
            unexpected.push(`#${i} ${r.kind}: ${res.status} ${text.slice(0, 200)}`);
          }
        }
      }),
    );
    expect(unexpected).toEqual([]);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(BODIES);
    // Every refusal class was reached, so the run exercised more than one guard.
    expect([...statuses.keys()].sort()).toEqual([400, 401, 404, 413, 415, 422]);
    expect(byKind.get('oversized')).toEqual(new Set([413]));
    expect(byKind.get('content-type')).toEqual(new Set([415]));

    const [{ n }] = (await app.rt.ds.query(`SELECT count(*)::int AS n FROM alert`)) as [{ n: number }];
    expect(n).toBe(0);
    const jobs = await app.rt.queues.alerts.getJobs([
      'waiting',
      'active',
      'completed',
      'failed',
      'delayed',
      'prioritized',
    ]);
    expect(jobs.filter((j) => j.name === 'alerts')).toEqual([]);
    expect(await grids()).toEqual(before);
  });
});
