import { createHmac } from 'node:crypto';
import { RestClientV5, WebsocketClient } from 'bybit-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type FakeBybit, type FakeBybitOptions, startFakeBybit } from '../../fakes/bybit/server.js';

const KEY = 'fake-key';
const SECRET = 'fake-secret';
const WAIT_MS = 2000;

function options(overrides: Partial<FakeBybitOptions> = {}): FakeBybitOptions {
  return {
    apiKey: KEY,
    apiSecret: SECRET,
    instruments: [
      {
        symbol: 'BTCUSDT',
        baseCoin: 'BTC',
        quoteCoin: 'USDT',
        tickSize: '0.01',
        basePrecision: '0.000001',
        minOrderQty: '0.000048',
        minOrderAmt: '5',
      },
    ],
    balances: { USDT: '100000', BTC: '1' },
    ...overrides,
  };
}

type Msg = Record<string, unknown> & { data?: unknown };

/** The wire form of protocols.md 2.2: hex HMAC_SHA256(secret, 'GET/realtime' + expires). */
function authArgs(expires = Date.now() + 5000, secret = SECRET, key = KEY): [string, number, string] {
  const signature = createHmac('sha256', secret).update(`GET/realtime${expires}`).digest('hex');
  return [key, expires, signature];
}

/** A real `ws` client that queues every JSON frame and lets a test await the next one matching a predicate. */
class Client {
  readonly received: Msg[] = [];
  private readonly waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  readonly closed: Promise<number>;
  private pings = 0;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as Msg;
      this.received.push(msg);
      for (const w of [...this.waiters]) {
        if (w.pred(msg)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(msg);
        }
      }
    });
    this.closed = new Promise((resolve) => socket.on('close', (code) => resolve(code)));
  }

  static open(url: string): Promise<Client> {
    const socket = new WebSocket(url);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new Client(socket)));
      socket.once('error', reject);
    });
  }

  static async authed(url: string, topics: string[]): Promise<Client> {
    const c = await Client.open(url);
    expect((await c.request({ op: 'auth', args: authArgs() }, 'auth')).success).toBe(true);
    expect((await c.request({ op: 'subscribe', args: topics, req_id: 's' }, 'subscribe')).success).toBe(true);
    return c;
  }

  send(body: unknown): void {
    this.socket.send(JSON.stringify(body));
  }

  /** Next message (from now on, or already queued and not yet consumed by `since`) matching `pred`. */
  next(pred: (m: Msg) => boolean): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching message')), WAIT_MS);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  request(body: Record<string, unknown>, op: string): Promise<Msg> {
    const reply = this.next((m) => m.op === op && m.topic === undefined);
    this.send(body);
    return reply;
  }

  /** Private ping round trip: frames are ordered, so every push sent before it has arrived once the pong has. */
  async barrier(): Promise<void> {
    const id = `barrier-${++this.pings}`;
    const pong = this.next((m) => m.op === 'pong' && m.req_id === id);
    this.send({ op: 'ping', req_id: id });
    await pong;
  }

  topic(name: string): Msg[] {
    return this.received.filter((m) => m.topic === name);
  }

  close(): void {
    this.socket.terminate();
  }
}

function items(m: Msg): Record<string, unknown>[] {
  return m.data as Record<string, unknown>[];
}

function statuses(c: Client): unknown[] {
  return c.topic('order').flatMap((m) => items(m).map((o) => o.orderStatus));
}

describe('fake Bybit WebSocket streams', () => {
  let fake: FakeBybit;
  let rest: RestClientV5;
  const clients: Client[] = [];
  const track = (c: Client) => {
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    fake = await startFakeBybit(options());
    rest = new RestClientV5({ key: KEY, secret: SECRET, baseUrl: fake.url });
    fake.setPrice('BTCUSDT', '30000');
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    fake.ws.duplicateExecutions = 0;
    fake.ws.reorder = false;
    fake.ws.flush();
    fake.ws.refuse = false;
  });
  afterAll(async () => {
    await fake.close();
  });

  async function buy(linkId: string, price: string): Promise<string> {
    const r = await rest.submitOrder({
      category: 'spot',
      symbol: 'BTCUSDT',
      side: 'Buy',
      orderType: 'Limit',
      qty: '0.001',
      price,
      orderLinkId: linkId,
    });
    expect(r.retCode).toBe(0);
    return r.result.orderId;
  }

  it('exposes the URLs on the REST port', () => {
    const port = new URL(fake.url).port;
    expect(fake.wsPublicUrl).toBe(`ws://127.0.0.1:${port}/v5/public/spot`);
    expect(fake.wsPrivateUrl).toBe(`ws://127.0.0.1:${port}/v5/private`);
  });

  it('authenticates with HMAC(secret, GET/realtime + expires) and refuses what it must, keeping the socket', async () => {
    const c = track(await Client.open(fake.wsPrivateUrl));
    const early = await c.request({ op: 'subscribe', args: ['execution'], req_id: 'e' }, 'subscribe');
    expect(early).toMatchObject({ success: false, op: 'subscribe', req_id: 'e' });

    const [key, expires, signature] = authArgs();
    const badSig = await c.request(
      { op: 'auth', args: [key, expires, `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`] },
      'auth',
    );
    expect(badSig).toMatchObject({ success: false, op: 'auth' });
    expect(typeof badSig.ret_msg).toBe('string');
    expect(badSig.ret_msg).not.toBe('');
    const badKey = await c.request(
      { op: 'auth', args: authArgs(Date.now() + 5000, SECRET, 'other') },
      'auth',
    );
    expect(badKey.success).toBe(false);
    const expired = await c.request({ op: 'auth', args: authArgs(Date.now() - 1) }, 'auth');
    expect(expired.success).toBe(false);
    expect(c.socket.readyState).toBe(WebSocket.OPEN);

    const ok = await c.request({ op: 'auth', args: [key, expires, signature], req_id: 'a' }, 'auth');
    expect(ok).toEqual({ success: true, ret_msg: '', op: 'auth', conn_id: expect.any(String), req_id: 'a' });
    const sub = await c.request(
      { op: 'subscribe', args: ['execution', 'order.spot', 'wallet'] },
      'subscribe',
    );
    expect(sub).toMatchObject({ success: true, ret_msg: '', op: 'subscribe', conn_id: ok.conn_id });
    const mixed = await c.request({ op: 'subscribe', args: ['order', 'order.spot'] }, 'subscribe');
    expect(mixed.success).toBe(false);

    const pong = await c.request({ op: 'ping', req_id: 'p' }, 'pong');
    expect(pong).toEqual({
      req_id: 'p',
      op: 'pong',
      args: [expect.stringMatching(/^\d+$/)],
      conn_id: ok.conn_id,
    });
    expect(fake.ws.connections()).toEqual({ public: 0, private: 1 });
  });

  it('public: ticker snapshots (data is an object) on setPrice, pong, at most 10 args', async () => {
    const c = track(await Client.open(fake.wsPublicUrl));
    const sub = await c.request({ op: 'subscribe', args: ['tickers.BTCUSDT'], req_id: 'x' }, 'subscribe');
    expect(sub).toEqual({
      success: true,
      ret_msg: 'subscribe',
      conn_id: expect.any(String),
      req_id: 'x',
      op: 'subscribe',
    });
    const tick = c.next((m) => m.topic === 'tickers.BTCUSDT');
    fake.setPrice('BTCUSDT', '30100');
    const snap = await tick;
    expect(snap).toMatchObject({ type: 'snapshot', ts: expect.any(Number), cs: expect.any(Number) });
    expect(snap.data).toMatchObject({
      symbol: 'BTCUSDT',
      lastPrice: '30100',
      highPrice24h: expect.any(String),
      lowPrice24h: expect.any(String),
      prevPrice24h: expect.any(String),
      volume24h: expect.any(String),
      turnover24h: expect.any(String),
      price24hPcnt: expect.any(String),
      usdIndexPrice: '30100',
    });
    expect(Array.isArray(snap.data)).toBe(false);

    const pong = await c.request({ op: 'ping', req_id: '1' }, 'ping');
    expect(pong).toEqual({ success: true, ret_msg: 'pong', conn_id: sub.conn_id, op: 'ping' });
    const many = Array.from({ length: 11 }, () => 'tickers.BTCUSDT');
    expect((await c.request({ op: 'subscribe', args: many, req_id: 'm' }, 'subscribe')).success).toBe(false);
    const unknown = await c.request({ op: 'subscribe', args: ['tickers.NOPEUSDT'] }, 'subscribe');
    expect(unknown.success).toBe(false);
    fake.setPrice('BTCUSDT', '30000');
  });

  it('private: one order message per state change, one execution per fill (fee in BTC for a buy), wallet', async () => {
    const c = track(await Client.authed(fake.wsPrivateUrl, ['execution', 'order', 'wallet']));
    const orderId = await buy('ws-buy-1', '29900');
    await c.barrier();
    expect(statuses(c)).toEqual(['New']);
    expect(items(c.topic('order')[0]!)[0]).toMatchObject({
      orderId,
      orderLinkId: 'ws-buy-1',
      category: 'spot',
      feeCurrency: '',
      closedPnl: '0',
      cumExecQty: '0',
    });
    expect(c.topic('order')[0]).toEqual({
      id: expect.any(String),
      topic: 'order',
      creationTime: expect.any(Number),
      data: expect.any(Array),
    });

    fake.setPrice('BTCUSDT', '29800');
    await c.barrier();
    expect(statuses(c)).toEqual(['New', 'Filled']);
    const executions = c.topic('execution');
    expect(executions).toHaveLength(1);
    expect(items(executions[0]!)).toEqual([
      expect.objectContaining({
        category: 'spot',
        orderId,
        side: 'Buy',
        execPrice: '29900',
        execQty: '0.001',
        feeCurrency: 'BTC',
        isMaker: true,
        isLeverage: '0',
        marketUnit: '',
        execPnl: '0',
        createType: 'CreateByUser',
        execId: fake.executions().at(-1)!.execId,
      }),
    ]);
    const wallet = c.topic('wallet').at(-1)!;
    const [account] = items(wallet) as {
      accountType: string;
      coin: { coin: string; walletBalance: string }[];
    }[];
    expect(account!.accountType).toBe('UNIFIED');
    const btc = account!.coin.find((x) => x.coin === 'BTC');
    expect(btc?.walletBalance).toBe(fake.balances().BTC!.walletBalance);

    await buy('ws-buy-2', '29000');
    await rest.cancelOrder({ category: 'spot', symbol: 'BTCUSDT', orderLinkId: 'ws-buy-2' });
    await c.barrier();
    expect(statuses(c)).toEqual(['New', 'Filled', 'New', 'Cancelled']);
    expect(c.topic('execution')).toHaveLength(1);
    fake.setPrice('BTCUSDT', '30000');
  });

  it('duplicateExecutions = 1 sends every execution message twice', async () => {
    const c = track(await Client.authed(fake.wsPrivateUrl, ['execution.spot']));
    fake.ws.duplicateExecutions = 1;
    await buy('ws-dup', '29950');
    fake.setPrice('BTCUSDT', '29900');
    await c.barrier();
    const executions = c.topic('execution.spot');
    expect(executions).toHaveLength(2);
    expect(executions[0]).toEqual(executions[1]);
    fake.setPrice('BTCUSDT', '30000');
  });

  it('reorder holds private messages and flush releases them reversed', async () => {
    const c = track(await Client.authed(fake.wsPrivateUrl, ['order']));
    fake.ws.reorder = true;
    await buy('ws-first', '29000');
    await buy('ws-second', '29001');
    await c.barrier();
    expect(c.topic('order')).toHaveLength(0);
    fake.ws.flush();
    await c.barrier();
    expect(c.topic('order').map((m) => items(m)[0]!.orderLinkId)).toEqual(['ws-second', 'ws-first']);
    await rest.cancelAllOrders({ category: 'spot', symbol: 'BTCUSDT' });
  });

  it('dropAll closes every socket abruptly; nothing pushed meanwhile is replayed', async () => {
    const priv = track(await Client.authed(fake.wsPrivateUrl, ['execution', 'order']));
    const pub = track(await Client.open(fake.wsPublicUrl));
    expect(fake.ws.connections()).toEqual({ public: 1, private: 1 });
    fake.ws.dropAll();
    expect(await priv.closed).toBe(1006);
    expect(await pub.closed).toBe(1006);
    expect(fake.ws.connections()).toEqual({ public: 0, private: 0 });

    await buy('ws-missed', '29950');
    fake.setPrice('BTCUSDT', '29900');
    const again = track(await Client.authed(fake.wsPrivateUrl, ['execution', 'order']));
    await again.barrier();
    expect(again.topic('execution')).toHaveLength(0);
    expect(again.topic('order')).toHaveLength(0);
    fake.setPrice('BTCUSDT', '30000');
  });

  it('refuse makes new private connections fail with HTTP 503; public still connects', async () => {
    fake.ws.refuse = true;
    await expect(Client.open(fake.wsPrivateUrl)).rejects.toThrow(/503/);
    track(await Client.open(fake.wsPublicUrl));
    fake.ws.refuse = false;
    track(await Client.open(fake.wsPrivateUrl));
  });

  it('serves the official SDK WebsocketClient: auth on connect, subscribe, execution update', async () => {
    const quiet = { trace: () => {}, info: () => {}, error: () => {} };
    const sdk = new WebsocketClient({ key: KEY, secret: SECRET, wsUrl: fake.wsPrivateUrl }, quiet);
    const updates: Msg[] = [];
    sdk.on('update', (u: Msg) => updates.push(u));
    // subscribeV5's promises settle once connected; the subscription itself is confirmed by a 'response' event.
    const authenticated = new Promise<Msg>((resolve) => sdk.on('authenticated', (a: Msg) => resolve(a)));
    const subscribed = new Promise<Msg>((resolve) =>
      sdk.on('response', (r: Msg) => {
        if (r.op === 'subscribe') resolve(r);
      }),
    );
    try {
      for (const p of sdk.subscribeV5(['execution', 'order'], 'spot')) p.catch(() => {});
      expect(await authenticated).toMatchObject({ success: true, op: 'auth' });
      expect(await subscribed).toMatchObject({ success: true, req_id: 'execution,order' });
      const orderId = await buy('ws-sdk', '29950');
      fake.setPrice('BTCUSDT', '29900');
      await expect
        .poll(() => updates.find((u) => u.topic === 'execution'), { timeout: WAIT_MS, interval: 20 })
        .toMatchObject({ data: [expect.objectContaining({ orderId, feeCurrency: 'BTC' })] });
      expect(updates.filter((u) => u.topic === 'order').length).toBeGreaterThanOrEqual(2);
    } finally {
      sdk.closeAll(true);
      fake.setPrice('BTCUSDT', '30000');
    }
  });
});
