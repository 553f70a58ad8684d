import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { ExchangeEvent, FakeExchange } from './exchange.js';
import { bybitSign } from './sign.js';
import type { FakeBybitWsControls } from './types.js';

/*
 * Bybit v5 WebSocket streams of the fake (protocols.md 2.1-2.5), on the REST fake's HTTP server:
 * - /v5/public/spot: tickers.{SYMBOL} (and orderbook.1.{SYMBOL}), pushed on every setPrice (not every 50 ms);
 * - /v5/private: auth, then order / order.spot, execution / execution.spot, wallet, pushed as the exchange changes.
 * Choices where Bybit is unverified or the fake simplifies:
 * - auth failure texts ('Params Error' for malformed args or a past expiry, as reported in the field; the others are
 *   ours); a failed auth keeps the socket open; a second auth on an authenticated socket is answered again;
 * - a topic subscribed twice is idempotent; a message goes out once per matching subscribed topic, with that topic
 *   name (a socket subscribed to both `order` and `order.spot` gets both);
 * - on a fill the order is pushed: execution, then order, then wallet; wallet data is the REST wallet-balance entry
 *   restricted to the coins that changed (no snapshot on subscribe);
 * - query strings on the URL (max_active_time) are accepted and ignored; there is no idle timeout;
 * - nothing is replayed to a socket that was not connected and subscribed when a message was pushed.
 */

const PUBLIC_PATH = '/v5/public/spot';
const PRIVATE_PATH = '/v5/private';
const SPOT_MAX_ARGS = 10;
const PRIVATE_TOPICS = ['order', 'order.spot', 'execution', 'execution.spot', 'wallet'] as const;

type Kind = 'public' | 'private';

interface Connection {
  readonly socket: WebSocket;
  readonly kind: Kind;
  readonly connId: string;
  authed: boolean;
  readonly topics: Set<string>;
}

interface Request {
  readonly op?: unknown;
  readonly args?: unknown;
  readonly req_id?: unknown;
}

export interface WsStreamsOptions {
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly now: () => number;
  readonly exchange: FakeExchange;
}

function connId(): string {
  return `${randomBytes(10).toString('hex')}-${randomBytes(2).toString('hex')}`;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

/** Public and private streams over one `ws` server in noServer mode, fed by the exchange's events. */
export class WsStreams {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly conns = new Set<Connection>();
  private readonly held: { conn: Connection; text: string }[] = [];
  private readonly crossSeq = new Map<string, number>();
  private updateId = 0;

  readonly controls: FakeBybitWsControls;

  constructor(private readonly options: WsStreamsOptions) {
    this.controls = {
      dropAll: () => {
        for (const c of this.conns) c.socket.terminate();
      },
      duplicateExecutions: 0,
      reorder: false,
      flush: () => this.flush(),
      badPrint: (symbol, lastPrice) => this.pushPublic(symbol, lastPrice),
      refuse: false,
      connections: () => {
        const out = { public: 0, private: 0 };
        for (const c of this.conns) if (c.socket.readyState === WebSocket.OPEN) out[c.kind]++;
        return out;
      },
    };
    options.exchange.onEvent = (event) => this.onExchangeEvent(event);
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = (req.url ?? '').split('?')[0];
      const kind: Kind | null = path === PUBLIC_PATH ? 'public' : path === PRIVATE_PATH ? 'private' : null;
      if (kind === null) return refuseUpgrade(socket, 404, 'Not Found');
      if (kind === 'private' && this.controls.refuse)
        return refuseUpgrade(socket, 503, 'Service Unavailable');
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, kind));
    });
  }

  /** Terminates every socket and closes the `ws` server (before the HTTP server closes, which waits for them). */
  async close(): Promise<void> {
    for (const c of this.conns) c.socket.terminate();
    this.conns.clear();
    this.held.length = 0;
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  // ---------------------------------------------------------------- connections

  private accept(socket: WebSocket, kind: Kind): void {
    const conn: Connection = { socket, kind, connId: connId(), authed: false, topics: new Set() };
    this.conns.add(conn);
    socket.on('close', () => this.conns.delete(conn));
    socket.on('error', () => socket.terminate());
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary)
        return this.reply(conn, { success: false, ret_msg: 'error:binary frames are not supported' });
      let request: Request;
      try {
        const parsed: unknown = JSON.parse(data.toString());
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error('not an object');
        request = parsed as Request;
      } catch {
        return this.reply(conn, { success: false, ret_msg: 'error:request is not a JSON object' });
      }
      this.handle(conn, request);
    });
  }

  private handle(conn: Connection, request: Request): void {
    const reqId = typeof request.req_id === 'string' ? { req_id: request.req_id } : {};
    const op = request.op;
    if (op === 'ping') {
      if (conn.kind === 'public') {
        return this.reply(conn, { success: true, ret_msg: 'pong', conn_id: conn.connId, op: 'ping' });
      }
      return this.reply(conn, {
        ...reqId,
        op: 'pong',
        args: [String(this.options.now())],
        conn_id: conn.connId,
      });
    }
    if (op === 'pong') return; // a client answering a server ping: nothing to do
    if (op === 'auth') {
      const reason =
        conn.kind === 'private' ? this.authFailure(request.args) : 'error:auth is for private streams';
      if (reason === null) conn.authed = true;
      return this.reply(conn, {
        ...reqId,
        success: reason === null,
        ret_msg: reason ?? '',
        op: 'auth',
        conn_id: conn.connId,
      });
    }
    if (op === 'subscribe' || op === 'unsubscribe') {
      const reason = this.subscribeFailure(conn, op, request.args);
      if (reason === null) {
        for (const topic of request.args as string[]) {
          if (op === 'subscribe') conn.topics.add(topic);
          else conn.topics.delete(topic);
        }
      }
      const ok = conn.kind === 'public' ? op : '';
      return this.reply(conn, {
        success: reason === null,
        ret_msg: reason ?? ok,
        conn_id: conn.connId,
        ...reqId,
        op,
      });
    }
    this.reply(conn, {
      success: false,
      ret_msg: 'error:invalid op',
      conn_id: conn.connId,
      ...reqId,
      ...(typeof op === 'string' ? { op } : {}),
    });
  }

  /** null when `args` = [apiKey, expires ms in the future, hex HMAC_SHA256(secret, 'GET/realtime' + expires)]. */
  private authFailure(args: unknown): string | null {
    if (!Array.isArray(args) || args.length !== 3) return 'Params Error';
    const [key, expires, signature] = args as unknown[];
    const expiresText = typeof expires === 'number' ? String(expires) : expires;
    if (typeof key !== 'string' || typeof signature !== 'string' || typeof expiresText !== 'string') {
      return 'Params Error';
    }
    if (!/^\d+$/.test(expiresText)) return 'Params Error';
    if (Number(expiresText) <= this.options.now()) return 'Params Error';
    if (!sameText(key, this.options.apiKey)) return 'error:apiKey is invalid';
    const expected = bybitSign(this.options.apiSecret, `GET/realtime${expiresText}`);
    if (!sameText(signature, expected)) return 'error:signature verification failed';
    return null;
  }

  private subscribeFailure(conn: Connection, op: string, args: unknown): string | null {
    if (!Array.isArray(args) || args.length === 0 || !args.every((a) => typeof a === 'string')) {
      return 'error:args must be a non-empty array of topics';
    }
    const topics = args as string[];
    if (conn.kind === 'public') {
      if (topics.length > SPOT_MAX_ARGS) return `error:args count exceeds the limit of ${SPOT_MAX_ARGS}`;
      const bad = topics.find((t) => !this.isPublicTopic(t));
      return bad === undefined ? null : `error:handler not found,topic:${bad}`;
    }
    if (op === 'subscribe' && !conn.authed) return 'Request not authorized';
    const bad = topics.find((t) => !(PRIVATE_TOPICS as readonly string[]).includes(t));
    if (bad !== undefined) return `error:handler not found,topic:${bad}`;
    for (const family of ['order', 'execution']) {
      if (topics.includes(family) && topics.includes(`${family}.spot`)) {
        return `error:${family} and ${family}.spot cannot be in one request`;
      }
    }
    return null;
  }

  private isPublicTopic(topic: string): boolean {
    const m = /^(tickers|orderbook\.1)\.([A-Z0-9]+)$/.exec(topic);
    return m !== null && this.options.exchange.hasSymbol(m[2]!);
  }

  // ---------------------------------------------------------------- pushes

  private onExchangeEvent(event: ExchangeEvent): void {
    switch (event.kind) {
      case 'price':
        return this.pushPublic(event.symbol);
      case 'order':
        return this.pushPrivate(['order', 'order.spot'], () => [
          { category: 'spot', ...event.order, feeCurrency: '', closedPnl: '0' },
        ]);
      case 'execution':
        return this.pushPrivate(['execution', 'execution.spot'], () => [
          { category: 'spot', ...event.execution, isLeverage: '0', marketUnit: '', execPnl: '0' },
        ]);
      case 'wallet':
        return this.pushPrivate(['wallet'], () => [this.options.exchange.walletBalance([...event.coins])]);
    }
  }

  /** `lastPrice` overrides the exchange's own in the ticker pushed (a bad print: the book and REST do not move). */
  private pushPublic(symbol: string, lastPrice?: string): void {
    const exchange = this.options.exchange;
    if (![...this.conns].some((c) => c.kind === 'public' && c.topics.size > 0)) return;
    const ticker = exchange.tickers(symbol)[0] as Record<string, string> | undefined;
    if (ticker === undefined) return;
    const cs = (this.crossSeq.get(symbol) ?? 0) + 1;
    this.crossSeq.set(symbol, cs);
    const ts = this.options.now();
    const tickerTopic = `tickers.${symbol}`;
    const bookTopic = `orderbook.1.${symbol}`;
    for (const c of this.conns) {
      if (c.kind !== 'public') continue;
      if (c.topics.has(tickerTopic)) {
        this.send(c, {
          topic: tickerTopic,
          type: 'snapshot',
          ts,
          cs,
          data: {
            symbol,
            lastPrice: lastPrice ?? ticker.lastPrice,
            highPrice24h: ticker.highPrice24h,
            lowPrice24h: ticker.lowPrice24h,
            prevPrice24h: ticker.prevPrice24h,
            volume24h: ticker.volume24h,
            turnover24h: ticker.turnover24h,
            price24hPcnt: ticker.price24hPcnt,
            usdIndexPrice: ticker.usdIndexPrice,
          },
        });
      }
      if (c.topics.has(bookTopic)) {
        this.send(c, {
          topic: bookTopic,
          type: 'snapshot',
          ts,
          data: {
            s: symbol,
            b: [[ticker.bid1Price, ticker.bid1Size]],
            a: [[ticker.ask1Price, ticker.ask1Size]],
            u: ++this.updateId,
            seq: cs,
          },
          cts: ts,
        });
      }
    }
  }

  /** `data` is built only when some authenticated socket subscribes to one of `topics`. */
  private pushPrivate(topics: readonly string[], build: () => unknown[]): void {
    const creationTime = this.options.now();
    const isExecution = topics[0] === 'execution';
    let data: unknown[] | null = null;
    for (const c of this.conns) {
      if (c.kind !== 'private' || !c.authed) continue;
      for (const topic of topics) {
        if (!c.topics.has(topic)) continue;
        data ??= build();
        const text = JSON.stringify({ id: randomUUID(), topic, creationTime, data });
        const copies = isExecution && Math.random() < this.controls.duplicateExecutions ? 2 : 1;
        for (let i = 0; i < copies; i++) {
          if (this.controls.reorder) this.held.push({ conn: c, text });
          else this.sendText(c, text);
        }
      }
    }
  }

  private flush(): void {
    const held = this.held.splice(0).reverse();
    for (const { conn, text } of held) this.sendText(conn, text);
  }

  private reply(conn: Connection, body: Record<string, unknown>): void {
    this.send(conn, 'conn_id' in body ? body : { ...body, conn_id: conn.connId });
  }

  private send(conn: Connection, body: unknown): void {
    this.sendText(conn, JSON.stringify(body));
  }

  private sendText(conn: Connection, text: string): void {
    if (conn.socket.readyState === WebSocket.OPEN) conn.socket.send(text);
  }
}
