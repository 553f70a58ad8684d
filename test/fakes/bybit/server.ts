import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { isKlineInterval } from './candles.js';
import { FakeExchange } from './exchange.js';
import { bybitSign, bybitSignString } from './sign.js';
import type {
  FakeBybit,
  FakeBybitApiKeyInfo,
  FakeBybitFaults,
  FakeBybitOptions,
  FakeBybitRequestLogEntry,
} from './types.js';
import { WsStreams } from './ws.js';

export { bybitSign, bybitSignString } from './sign.js';
export type {
  FakeBybit,
  FakeBybitApiKeyInfo,
  FakeBybitExecution,
  FakeBybitFaults,
  FakeBybitInstrument,
  FakeBybitOptions,
  FakeBybitOrder,
  FakeBybitOrderStatus,
  FakeBybitOrderType,
  FakeBybitRequestLogEntry,
  FakeBybitSide,
  FakeBybitWsControls,
} from './types.js';

/*
 * A local fake of Bybit's v5 spot REST API (protocols.md 1.1-1.8), for tests: real HTTP on 127.0.0.1, signatures
 * checked exactly as Bybit does, business errors as HTTP 200 + retCode, X-Bapi-Limit* headers, per-UID rate limits
 * and fault injection. The same server carries the public and private WebSocket streams (ws.ts). Choices where Bybit is unverified or where the fake simplifies:
 * - only category=spot; orders fill whole (no partial fills); acks are synchronous (fills happen before the answer);
 * - a missing X-BAPI-RECV-WINDOW means 5000 ms for the window and '' in the signed string;
 * - a resting Limit Buy locks qty*price*(1+taker rate) quote, a Limit Sell locks qty base;
 * - rate limits (per endpoint, rolling second) and the IP limit (HTTP 403) count wall time, not the `now` clock;
 *   requests refused with 10006 use no budget; reads report their budget in the headers but are not refused;
 * - GET /v5/order/history returns every status (UTA), by createdTime, with Bybit's 24 h / 7 day retention;
 * - GET /v5/user/query-api describes the key as the test sets it (apiKeyInfo), budgeted 10 reads a second (Bybit's
 *   figure for it is not in protocols.md); a bound key gets deadlineDay -1 and the epoch as expiredAt (unverified).
 */

type Params = Record<string, unknown>;

/** What a handler produced: retCode/retMsg plus result and retExtInfo of the envelope. */
interface Handled {
  readonly code: number;
  readonly msg: string;
  readonly result?: unknown;
  readonly retExtInfo?: unknown;
}

interface Context {
  readonly params: Params;
  /** Takes up to n units of this endpoint's per-UID budget; returns how many were granted (create-batch). */
  readonly take: (n: number) => number;
}

interface Route {
  readonly signed: boolean;
  /** Per-UID budget per rolling second: 'write' endpoints are enforced (10006), 'read' ones only reported. */
  readonly budget: { readonly kind: 'write' | 'read'; readonly perSecond: number } | null;
  /** create-batch takes its own units (one per order); other write endpoints take one before the handler. */
  readonly takesOwnUnits?: boolean;
  readonly handle: (ctx: Context) => Handled;
}

const OK = 'OK';
const TOO_MANY_VISITS = 'Too many visits!';
const SPOT_ONLY = 'category only support spot in this fake';
const BATCH_MAX = 10;

function failure(code: number, msg: string): Handled {
  return { code, msg };
}

function success(result: unknown, retExtInfo?: unknown): Handled {
  return retExtInfo === undefined ? { code: 0, msg: OK, result } : { code: 0, msg: OK, result, retExtInfo };
}

function str(p: Params, name: string): string | undefined {
  const v = p[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** category must be spot (the only one this fake serves). */
function spot(p: Params, fallback?: string): Handled | null {
  const category = str(p, 'category') ?? fallback;
  if (category === undefined) return failure(10001, 'Illegal category');
  if (category !== 'spot') return failure(10001, SPOT_ONLY);
  return null;
}

function intOrUndefined(p: Params, name: string): number | undefined | null {
  const v = str(p, name);
  if (v === undefined) return undefined;
  return /^\d+$/.test(v) ? Number(v) : null;
}

/** A rolling window of wall time (perf_hooks' clock: neither the `now` option nor fake timers move it). */
class RollingWindow {
  private readonly hits: number[] = [];

  constructor(
    readonly limit: number,
    private readonly windowMs: number,
  ) {}

  available(t: number): number {
    while (this.hits.length > 0 && this.hits[0]! <= t - this.windowMs) this.hits.shift();
    return Math.max(0, this.limit - this.hits.length);
  }

  take(t: number, n: number): number {
    const granted = Math.min(n, this.available(t));
    for (let i = 0; i < granted; i++) this.hits.push(t);
    return granted;
  }

  /** ms until the oldest hit leaves the window. */
  resetInMs(t: number): number {
    this.available(t);
    const oldest = this.hits[0];
    return oldest === undefined ? 0 : Math.max(0, oldest + this.windowMs - t);
  }
}

function parseQuery(raw: string): Params {
  const out: Params = {};
  for (const [k, v] of new URLSearchParams(raw)) out[k] = v;
  return out;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export async function startFakeBybit(options: FakeBybitOptions): Promise<FakeBybit> {
  const now = options.now ?? Date.now;
  const writePerSecond = options.rateLimitPerSecond ?? 20;
  const exchange = new FakeExchange({
    instruments: options.instruments,
    balances: options.balances,
    makerFeeRate: options.makerFeeRate ?? '0.001',
    takerFeeRate: options.takerFeeRate ?? '0.001',
    now,
  });
  const faults: FakeBybitFaults = { http5xx: 0, http5xxAfterProcessing: 0, slowMs: 0, rateLimited: false };
  const keyInfo: FakeBybitApiKeyInfo = {
    readOnly: 0,
    permissions: { Spot: ['SpotTrade'] },
    ips: ['127.0.0.1'],
    deadlineDay: undefined,
    unsupported: false,
    ...options.apiKeyInfo,
  };
  const keyCreatedAt = now();
  const log: FakeBybitRequestLogEntry[] = [];
  const ipWindow = new RollingWindow(options.ipLimitPer5s ?? 600, 5000);
  const windows = new Map<string, RollingWindow>();
  const write = { kind: 'write', perSecond: writePerSecond } as const;
  const read = (perSecond: number) => ({ kind: 'read', perSecond }) as const;

  const routes: Record<string, Route> = {
    'GET /v5/market/time': {
      signed: false,
      budget: null,
      handle: () => {
        const t = now();
        return success({
          timeSecond: String(Math.floor(t / 1000)),
          timeNano: String(BigInt(t) * 1_000_000n),
        });
      },
    },
    'GET /v5/market/tickers': {
      signed: false,
      budget: null,
      handle: ({ params }) => {
        const bad = spot(params);
        if (bad) return bad;
        const symbol = str(params, 'symbol');
        if (symbol !== undefined && !exchange.hasSymbol(symbol))
          return failure(10001, 'Not supported symbols');
        return success({ category: 'spot', list: exchange.tickers(symbol) });
      },
    },
    'GET /v5/market/kline': {
      signed: false,
      budget: null,
      handle: ({ params }) => {
        const bad = spot(params, 'linear');
        if (bad) return bad;
        const symbol = str(params, 'symbol');
        if (symbol === undefined) return failure(10001, 'params error: symbol is required');
        if (!exchange.hasSymbol(symbol)) return failure(10001, 'Not supported symbols');
        const interval = str(params, 'interval') ?? '';
        if (!isKlineInterval(interval)) return failure(10001, 'Invalid period!');
        const start = intOrUndefined(params, 'start');
        const end = intOrUndefined(params, 'end');
        const limit = intOrUndefined(params, 'limit');
        if (start === null || end === null || limit === null) {
          return failure(10001, 'params error: start, end and limit must be integers');
        }
        const n = Math.min(Math.max(limit ?? 200, 1), 1000);
        return success({ category: 'spot', symbol, list: exchange.klines(symbol, interval, start, end, n) });
      },
    },
    'GET /v5/market/instruments-info': {
      signed: false,
      budget: null,
      handle: ({ params }) => {
        const bad = spot(params);
        if (bad) return bad;
        const status = str(params, 'status');
        const list =
          status === undefined || status === 'Trading' ? exchange.instrumentsInfo(str(params, 'symbol')) : [];
        return success({ category: 'spot', list, nextPageCursor: '' });
      },
    },
    'POST /v5/order/create': {
      signed: true,
      budget: write,
      handle: ({ params }) => {
        const bad = spot(params);
        if (bad) return bad;
        const r = exchange.create(params);
        if (!r.ok) return failure(r.code, r.msg);
        return success({ orderId: r.value.orderId, orderLinkId: r.value.orderLinkId });
      },
    },
    'POST /v5/order/create-batch': {
      signed: true,
      budget: write,
      takesOwnUnits: true,
      handle: ({ params, take }) => {
        const bad = spot(params);
        if (bad) return bad;
        const request = params.request;
        if (!Array.isArray(request) || request.length === 0) {
          return failure(10001, 'params error: request must be a non-empty array');
        }
        if (request.length > BATCH_MAX) {
          return failure(10001, `params error: a spot batch takes at most ${BATCH_MAX} orders`);
        }
        const granted = take(request.length);
        if (granted === 0) return failure(10006, TOO_MANY_VISITS);
        const list: unknown[] = [];
        const codes: { code: number; msg: string }[] = [];
        request.forEach((item: unknown, i) => {
          const p = (typeof item === 'object' && item !== null ? item : {}) as Params;
          const symbol = typeof p.symbol === 'string' ? p.symbol : '';
          const orderLinkId = typeof p.orderLinkId === 'string' ? p.orderLinkId : '';
          const r =
            i >= granted
              ? ({ ok: false, code: 10006, msg: TOO_MANY_VISITS } as const)
              : typeof item !== 'object' || item === null
                ? ({ ok: false, code: 10001, msg: 'params error: each request must be an object' } as const)
                : exchange.create(p);
          if (r.ok) {
            const o = r.value;
            list.push({
              category: 'spot',
              symbol: o.symbol,
              orderId: o.orderId,
              orderLinkId: o.orderLinkId,
              createAt: String(o.createdTime),
            });
            codes.push({ code: 0, msg: OK });
          } else {
            list.push({ category: 'spot', symbol, orderId: '', orderLinkId, createAt: '' });
            codes.push({ code: r.code, msg: r.msg });
          }
        });
        return success({ list }, { list: codes });
      },
    },
    'POST /v5/order/cancel': {
      signed: true,
      budget: write,
      handle: ({ params }) => {
        const bad = spot(params);
        if (bad) return bad;
        const r = exchange.cancel(params);
        if (!r.ok) return failure(r.code, r.msg);
        return success({ orderId: r.value.orderId, orderLinkId: r.value.orderLinkId });
      },
    },
    'POST /v5/order/cancel-all': {
      signed: true,
      budget: write,
      handle: ({ params }) => {
        const bad = spot(params);
        if (bad) return bad;
        const r = exchange.cancelAll(params);
        if (!r.ok) return failure(r.code, r.msg);
        return success({
          list: r.value.map((o) => ({ orderId: o.orderId, orderLinkId: o.orderLinkId })),
          success: '1',
        });
      },
    },
    'GET /v5/order/realtime': {
      signed: true,
      budget: read(50),
      handle: ({ params }) => {
        const bad = spot(params);
        if (bad) return bad;
        const r = exchange.realtime(params);
        return r.ok ? success({ category: 'spot', ...r.value }) : failure(r.code, r.msg);
      },
    },
    'GET /v5/order/history': {
      signed: true,
      budget: read(50),
      handle: ({ params }) => {
        const bad = spot(params);
        if (bad) return bad;
        const r = exchange.history(params);
        return r.ok ? success({ category: 'spot', ...r.value }) : failure(r.code, r.msg);
      },
    },
    'GET /v5/execution/list': {
      signed: true,
      budget: read(50),
      handle: ({ params }) => {
        const bad = spot(params);
        if (bad) return bad;
        const r = exchange.executionList(params);
        return r.ok ? success({ category: 'spot', ...r.value }) : failure(r.code, r.msg);
      },
    },
    'GET /v5/account/wallet-balance': {
      signed: true,
      budget: read(50),
      handle: ({ params }) => {
        if (str(params, 'accountType') !== 'UNIFIED')
          return failure(10001, 'accountType only support UNIFIED.');
        const coin = str(params, 'coin');
        return success({ list: [exchange.walletBalance(coin?.split(',').filter((c) => c !== ''))] });
      },
    },
    'GET /v5/user/query-api': {
      signed: true,
      budget: read(10),
      handle: () => {
        const unbound = keyInfo.ips.length === 0 || keyInfo.ips.includes('*');
        // Bybit sends deadlineDay and expiredAt for keys that expire (no IP bound); what a bound key gets is
        // unverified: -1 and the epoch here, as seen in other clients' fixtures.
        const deadlineDay = keyInfo.deadlineDay ?? (unbound ? 90 : -1);
        const day = 86_400_000;
        const groups = ['ContractTrade', 'Spot', 'Wallet', 'Options', 'Derivatives', 'CopyTrading'];
        const more = ['BlockTrade', 'Exchange', 'NFT', 'Affiliate', 'Earn'];
        const permissions = Object.fromEntries(
          [...groups, ...more, ...Object.keys(keyInfo.permissions)].map((g) => [
            g,
            keyInfo.permissions[g] ?? [],
          ]),
        );
        return success({
          id: '16651472',
          note: 'fake',
          apiKey: options.apiKey,
          readOnly: keyInfo.readOnly,
          secret: '',
          permissions,
          ips: keyInfo.ips.length ? keyInfo.ips : ['*'],
          type: 1,
          deadlineDay,
          expiredAt:
            deadlineDay >= 0
              ? new Date(now() + deadlineDay * day).toISOString().replace(/\.\d{3}Z$/, 'Z')
              : '1970-01-01T00:00:00Z',
          createdAt: new Date(keyCreatedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          unified: 0,
          uta: 1,
          userID: 53888001,
          inviterID: 0,
          vipLevel: 'No VIP',
          mktMakerLevel: '0',
          affiliateID: 0,
          isMaster: true,
        });
      },
    },
    'GET /v5/account/fee-rate': {
      signed: true,
      budget: read(5),
      handle: ({ params }) => {
        const bad = spot(params);
        if (bad) return bad;
        return success({ category: 'spot', list: exchange.feeRates(str(params, 'symbol')) });
      },
    },
  };

  /** protocols.md 1.2: key (10003), timestamp window (10002), signature (10004); missing headers are HTTP 401. */
  function authenticate(req: FastifyRequest, payload: string): Handled | 'unauthorized' | null {
    const key = header(req, 'x-bapi-api-key');
    const ts = header(req, 'x-bapi-timestamp');
    const sign = header(req, 'x-bapi-sign');
    const recv = header(req, 'x-bapi-recv-window');
    if (!key || !ts || !sign) return 'unauthorized';
    if (key !== options.apiKey) return failure(10003, 'API key is invalid.');
    const recvWindow = recv === undefined ? 5000 : Number(recv);
    if (!Number.isFinite(recvWindow) || recvWindow <= 0)
      return failure(10001, 'params error: recv_window is invalid');
    const serverTime = now();
    const timestamp = /^\d+$/.test(ts) ? Number(ts) : Number.NaN;
    if (!(serverTime - recvWindow <= timestamp && timestamp < serverTime + 1000)) {
      return failure(
        10002,
        `invalid request, please check your server timestamp or recv_window param. req_timestamp[${ts}],server_timestamp[${serverTime}],recv_window[${recvWindow}]`,
      );
    }
    const origin = bybitSignString(ts, key, recv ?? '', payload);
    if (sign !== bybitSign(options.apiSecret, origin)) {
      const masked = bybitSignString(ts, '***', recv ?? '', payload);
      return failure(
        10004,
        `Error sign, please check your signature generation algorithm: origin_string[${masked}]`,
      );
    }
    return null;
  }

  function budgetHeaders(path: string, route: Route, t: number): Record<string, string> {
    if (route.budget === null) return {};
    const w = windowOf(path, route.budget.perSecond);
    const remaining = w.available(t);
    const serverNow = now();
    return {
      'X-Bapi-Limit': String(w.limit),
      'X-Bapi-Limit-Status': String(remaining),
      'X-Bapi-Limit-Reset-Timestamp': String(
        remaining > 0 ? serverNow : serverNow + Math.ceil(w.resetInMs(t)),
      ),
    };
  }

  function windowOf(path: string, perSecond: number): RollingWindow {
    let w = windows.get(path);
    if (w === undefined) {
      w = new RollingWindow(perSecond, 1000);
      windows.set(path, w);
    }
    return w;
  }

  interface Answer {
    status: number;
    handled: Handled | null;
    text?: string;
    headers: Record<string, string>;
  }

  function answerRequest(req: FastifyRequest, path: string, rawQuery: string): Answer {
    const unsupported = keyInfo.unsupported && path === '/v5/user/query-api';
    const route = unsupported ? undefined : routes[`${req.method} ${path}`];
    if (route === undefined) return { status: 404, handled: null, text: '404 page not found', headers: {} };
    let params: Params = {};
    let payload: string;
    let invalidBody = false;
    if (req.method === 'GET') {
      payload = rawQuery;
      params = parseQuery(rawQuery);
    } else {
      payload = typeof req.body === 'string' ? req.body : '';
      if (payload !== '') {
        try {
          const parsed: unknown = JSON.parse(payload);
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
            throw new Error('not an object');
          params = parsed as Params;
        } catch {
          invalidBody = true;
        }
      }
    }
    if (route.signed) {
      const auth = authenticate(req, payload);
      if (auth === 'unauthorized') return { status: 401, handled: null, text: 'Unauthorized', headers: {} };
      if (auth !== null) return { status: 200, handled: auth, headers: {} };
    }
    if (invalidBody)
      return { status: 200, handled: failure(10001, 'params error: body is not a JSON object'), headers: {} };
    const t = performance.now();
    if (faults.rateLimited && path.startsWith('/v5/order/')) {
      const serverNow = now();
      return {
        status: 200,
        handled: failure(10006, TOO_MANY_VISITS),
        headers: {
          'X-Bapi-Limit': String(route.budget?.perSecond ?? writePerSecond),
          'X-Bapi-Limit-Status': '0',
          'X-Bapi-Limit-Reset-Timestamp': String(serverNow + 1000),
        },
      };
    }
    const budget = route.budget;
    const w = budget === null ? null : windowOf(path, budget.perSecond);
    if (w !== null && budget !== null && !route.takesOwnUnits) {
      if (budget.kind === 'write' && w.take(t, 1) === 0) {
        return {
          status: 200,
          handled: failure(10006, TOO_MANY_VISITS),
          headers: budgetHeaders(path, route, t),
        };
      }
      if (budget.kind === 'read') w.take(t, 1);
    }
    const handled = route.handle({ params, take: (n) => (w === null ? n : w.take(t, n)) });
    return { status: 200, handled, headers: budgetHeaders(path, route, t) };
  }

  const app = Fastify({ logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const streams = new WsStreams({ apiKey: options.apiKey, apiSecret: options.apiSecret, now, exchange });
  streams.attach(app.server);

  app.all('*', async (req: FastifyRequest, reply: FastifyReply) => {
    const rawUrl = req.raw.url ?? req.url;
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
    const entry: FakeBybitRequestLogEntry = { method: req.method, path, retCode: null, httpStatus: 200 };
    log.push(entry);
    const sendText = (status: number, body: string, headers: Record<string, string> = {}) => {
      entry.httpStatus = status;
      return reply.code(status).headers(headers).type('text/plain; charset=utf-8').send(body);
    };

    if (ipWindow.take(performance.now(), 1) === 0) return sendText(403, 'access too frequent');
    if (faults.slowMs > 0) await sleep(faults.slowMs);
    if (Math.random() < faults.http5xx) return sendText(503, 'service unavailable');
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? '0') > 0;
    if (req.method === 'GET' && hasBody) return sendText(403, 'Forbidden');

    const answer = answerRequest(req, path, rawQuery);
    entry.retCode = answer.handled?.code ?? null;
    if (Math.random() < faults.http5xxAfterProcessing) return sendText(503, 'service unavailable');
    const serverNow = now();
    if (answer.handled === null) {
      return sendText(answer.status, answer.text ?? '', { Timenow: String(serverNow) });
    }
    const h = answer.handled;
    entry.httpStatus = answer.status;
    const envelope = {
      retCode: h.code,
      retMsg: h.msg,
      result: h.result ?? {},
      retExtInfo: h.retExtInfo ?? {},
      time: serverNow,
    };
    return reply
      .code(answer.status)
      .headers({ ...answer.headers, Timenow: String(serverNow), Ret_code: String(h.code) })
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(envelope));
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('fake bybit: no TCP address');
  const url = `http://127.0.0.1:${address.port}`;

  return {
    url,
    wsPublicUrl: `ws://127.0.0.1:${address.port}/v5/public/spot`,
    wsPrivateUrl: `ws://127.0.0.1:${address.port}/v5/private`,
    ws: streams.controls,
    faults,
    apiKeyInfo: keyInfo,
    setPrice: (symbol, price) => exchange.setPrice(symbol, price),
    orders: () => exchange.orders(),
    executions: () => exchange.executions(),
    balances: () => exchange.balances(),
    requests: () => log.map((e) => ({ ...e })),
    close: async () => {
      await streams.close();
      // A client may still hold keep-alive sockets, or a request this fake is sleeping on (slowMs): closing waits
      // for none of them.
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
    },
  };
}
