import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { FakeGatewayStats } from './types.js';
import { isObject, type JsonObject, randomHex } from './util.js';

/*
 * The gateway of the fake Discord (protocols.md 4.2, 4.4), on the REST server's port, plain JSON text frames.
 * Choices where Discord is unverified or the fake simplifies:
 * - any path is accepted; v must be 10 when given; encoding other than json or any compress= closes with 4012 (the
 *   fake has neither ETF nor zlib: a client that asks for them fails loudly instead of reading garbage);
 * - a session survives a socket closed with any code but 1000/1001 and can be resumed on any socket; every dispatch is
 *   kept and replayed on resume (no size limit, no 4009 session timeout, no server-side zombie detection);
 * - op 3 (presence), op 4 (voice state) and op 8 (request guild members) are accepted and not answered;
 * - READY and GUILD_CREATE carry the fields discord.js reads plus the common ones; `_trace` values are made up.
 */

const OP = {
  dispatch: 0,
  heartbeat: 1,
  identify: 2,
  presence: 3,
  voiceState: 4,
  resume: 6,
  reconnect: 7,
  requestMembers: 8,
  invalidSession: 9,
  hello: 10,
  heartbeatAck: 11,
} as const;

/** Intents that need to be switched on in the developer portal (4014 otherwise). */
const PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15);
const ALL_INTENTS = (1 << 26) - 1;

interface Session {
  readonly id: string;
  readonly intents: number;
  seq: number;
  readonly log: { s: number; t: string; d: unknown }[];
  socket: WebSocket | null;
}

interface Connection {
  readonly socket: WebSocket;
  session: Session | null;
}

export interface GatewayOptions {
  readonly token: string;
  readonly heartbeatIntervalMs: number;
  readonly privilegedIntents: number;
  /** READY's `d` (without session fields) and the GUILD_CREATE payloads that follow it. */
  readonly readyPayload: () => { ready: JsonObject; guilds: JsonObject[] };
  readonly resumeUrl: () => string;
}

function trace(): string[] {
  return [`["gateway-prd-fake-${randomHex(2)}",{"micros":0.0}]`];
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

export class Gateway {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly conns = new Set<Connection>();
  private readonly sessions = new Map<string, Session>();
  private readonly counters = { identifies: 0, resumes: 0, heartbeats: 0 };

  constructor(private readonly options: GatewayOptions) {}

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if ((req.url ?? '').startsWith('/api/')) return refuseUpgrade(socket, 404, 'Not Found');
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
    });
  }

  stats(): FakeGatewayStats {
    let connections = 0;
    for (const c of this.conns) if (c.socket.readyState === WebSocket.OPEN) connections += 1;
    return { connections, ...this.counters };
  }

  /** Sessions that exist (connected or resumable); dispatch() reaches them all. */
  sessionCount(): number {
    return this.sessions.size;
  }

  /** Sends an event to every session, or keeps it for replay when the session's socket is down. */
  dispatch(t: string, d: unknown): number {
    for (const session of this.sessions.values()) this.send(session, t, d);
    return this.sessions.size;
  }

  drop(): void {
    for (const c of this.conns) c.socket.terminate();
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.socket.terminate();
    this.conns.clear();
    this.sessions.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  // ------------------------------------------------------------------------------------------ connections

  private accept(socket: WebSocket, req: IncomingMessage): void {
    const conn: Connection = { socket, session: null };
    this.conns.add(conn);
    socket.on('error', () => socket.terminate());
    socket.on('close', (code: number) => {
      this.conns.delete(conn);
      const session = conn.session;
      if (session === null || session.socket !== socket) return;
      session.socket = null;
      // Discord ends the session when the client closes normally; anything else leaves it resumable.
      if (code === 1000 || code === 1001) this.sessions.delete(session.id);
    });
    const params = new URL(req.url ?? '/', 'ws://fake').searchParams;
    const version = params.get('v');
    const encoding = params.get('encoding') ?? 'json';
    if ((version !== null && version !== '10') || encoding !== 'json' || params.has('compress')) {
      socket.close(4012, 'Invalid API version (the fake speaks v=10, json, no compression)');
      return;
    }
    socket.on('message', (data: RawData, isBinary: boolean) => this.onMessage(conn, data, isBinary));
    this.sendRaw(socket, {
      op: OP.hello,
      d: { heartbeat_interval: this.options.heartbeatIntervalMs, _trace: trace() },
      s: null,
      t: null,
    });
  }

  private onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    let payload: JsonObject;
    try {
      if (isBinary) throw new Error('binary frame');
      const parsed: unknown = JSON.parse(data.toString());
      if (!isObject(parsed)) throw new Error('not an object');
      payload = parsed;
    } catch {
      conn.socket.close(4002, 'Error while decoding payload.');
      return;
    }
    switch (payload.op) {
      case OP.heartbeat:
        this.counters.heartbeats += 1;
        return this.sendRaw(conn.socket, { op: OP.heartbeatAck, d: null, s: null, t: null });
      case OP.identify:
        return this.identify(conn, payload.d);
      case OP.resume:
        return this.resume(conn, payload.d);
      case OP.presence:
      case OP.voiceState:
      case OP.requestMembers:
        if (conn.session === null) conn.socket.close(4003, 'Not authenticated.');
        return;
      default:
        conn.socket.close(4001, 'Unknown opcode.');
    }
  }

  private identify(conn: Connection, d: unknown): void {
    if (conn.session !== null) return conn.socket.close(4005, 'Already authenticated.');
    if (!isObject(d) || typeof d.token !== 'string' || !isObject(d.properties)) {
      return conn.socket.close(4002, 'Error while decoding payload.');
    }
    if (d.token.replace(/^Bot\s+/i, '') !== this.options.token) {
      return conn.socket.close(4004, 'Authentication failed.');
    }
    const intents = d.intents;
    if (
      typeof intents !== 'number' ||
      !Number.isInteger(intents) ||
      intents < 0 ||
      (intents & ~ALL_INTENTS) !== 0
    ) {
      return conn.socket.close(4013, 'Invalid intent(s).');
    }
    if ((intents & PRIVILEGED_INTENTS & ~this.options.privilegedIntents) !== 0) {
      return conn.socket.close(4014, 'Disallowed intent(s).');
    }
    if (d.shard !== undefined) {
      const shard = d.shard;
      if (!Array.isArray(shard) || shard.length !== 2 || shard[0] !== 0 || shard[1] !== 1) {
        return conn.socket.close(4010, 'Invalid shard.');
      }
    }
    this.counters.identifies += 1;
    const session: Session = { id: randomHex(16), intents, seq: 0, log: [], socket: conn.socket };
    this.sessions.set(session.id, session);
    conn.session = session;
    const { ready, guilds } = this.options.readyPayload();
    this.send(session, 'READY', {
      ...ready,
      session_id: session.id,
      session_type: 'normal',
      resume_gateway_url: this.options.resumeUrl(),
      shard: [0, 1],
      _trace: trace(),
    });
    for (const guild of guilds) this.send(session, 'GUILD_CREATE', guild);
  }

  private resume(conn: Connection, d: unknown): void {
    if (conn.session !== null) return conn.socket.close(4005, 'Already authenticated.');
    if (!isObject(d) || typeof d.token !== 'string' || typeof d.session_id !== 'string') {
      return conn.socket.close(4002, 'Error while decoding payload.');
    }
    if (d.token.replace(/^Bot\s+/i, '') !== this.options.token) {
      return conn.socket.close(4004, 'Authentication failed.');
    }
    const session = this.sessions.get(d.session_id);
    const seq = typeof d.seq === 'number' ? d.seq : null;
    if (!session || seq === null || seq > session.seq) {
      return this.sendRaw(conn.socket, { op: OP.invalidSession, d: false, s: null, t: null });
    }
    this.counters.resumes += 1;
    session.socket?.terminate();
    session.socket = conn.socket;
    conn.session = session;
    for (const event of session.log) {
      if (event.s > seq) this.sendRaw(conn.socket, { op: OP.dispatch, t: event.t, s: event.s, d: event.d });
    }
    this.send(session, 'RESUMED', { _trace: trace() });
  }

  private send(session: Session, t: string, d: unknown): void {
    session.seq += 1;
    const event = { s: session.seq, t, d };
    session.log.push(event);
    if (session.socket !== null) this.sendRaw(session.socket, { op: OP.dispatch, ...event });
  }

  private sendRaw(socket: WebSocket, frame: JsonObject): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }
}
