import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { Logger } from '../../log/logger.js';
import { signWebSocketAuth } from './signing.js';

export type StreamStatus = 'connecting' | 'connected' | 'down';

export interface StreamMessage {
  readonly topic: string;
  readonly data: unknown;
}

export interface BybitStreamOptions {
  readonly url: string;
  /** Present for the private stream: it authenticates before subscribing. */
  readonly auth?: { readonly apiKey: string; readonly apiSecret: string } | undefined;
  readonly topics: readonly string[];
  readonly log: Logger;
  readonly onMessage: (message: StreamMessage) => void | Promise<void>;
  /** After every (re)connection, once subscribed: Bybit does not replay what was missed, so reconcile here. */
  readonly onSubscribed?: () => void | Promise<void>;
  readonly onStatus?: (status: StreamStatus) => void;
  readonly pingMs?: number;
  readonly pongTimeoutMs?: number;
  readonly nowMs?: () => number;
}

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

/**
 * One Bybit v5 WebSocket connection, kept alive: authenticates (private), subscribes in chunks of ten (spot's limit),
 * pings every 20 s and treats a missing pong as a dead link, and reconnects with exponential backoff, resubscribing
 * each time. Bybit keeps nothing for a disconnected client, so every new subscription calls onSubscribed, where the
 * caller reconciles over REST.
 */
export class BybitStream {
  private socket: WebSocket | null = null;
  private backoffMs = MIN_BACKOFF_MS;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private pongDeadline: NodeJS.Timeout | null = null;
  private stopped = false;
  private statusNow: StreamStatus = 'down';
  private pendingSubscriptions = 0;

  constructor(private readonly options: BybitStreamOptions) {}

  get status(): StreamStatus {
    return this.statusNow;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close();
        setTimeout(() => {
          socket.terminate();
          resolve();
        }, 1000).unref();
      });
    }
    this.setStatus('down');
  }

  private setStatus(status: StreamStatus): void {
    if (status === this.statusNow) return;
    this.statusNow = status;
    this.options.onStatus?.(status);
  }

  private connect(): void {
    if (this.stopped) return;
    this.setStatus('connecting');
    const socket = new WebSocket(this.options.url);
    this.socket = socket;
    socket.on('open', () => {
      if (this.options.auth) this.authenticate(socket);
      else this.subscribe(socket);
      this.startPinging(socket);
    });
    socket.on('message', (raw) => void this.receive(socket, raw.toString()));
    socket.on('error', (error) => {
      this.options.log.warn(`Bybit stream ${this.options.url}: ${error.message}`);
    });
    socket.on('close', () => {
      if (this.socket === socket) this.scheduleReconnect();
    });
  }

  private authenticate(socket: WebSocket): void {
    const { apiKey, apiSecret } = this.options.auth!;
    const expires = (this.options.nowMs ?? Date.now)() + 10_000;
    socket.send(
      JSON.stringify({
        req_id: 'auth',
        op: 'auth',
        args: [apiKey, expires, signWebSocketAuth(apiSecret, expires)],
      }),
    );
  }

  private subscribe(socket: WebSocket): void {
    const topics = [...this.options.topics];
    this.pendingSubscriptions = 0;
    for (let i = 0; i < topics.length; i += 10) {
      this.pendingSubscriptions++;
      socket.send(JSON.stringify({ req_id: randomUUID(), op: 'subscribe', args: topics.slice(i, i + 10) }));
    }
    if (this.pendingSubscriptions === 0) void this.subscribed();
  }

  private async subscribed(): Promise<void> {
    this.backoffMs = MIN_BACKOFF_MS;
    this.setStatus('connected');
    try {
      await this.options.onSubscribed?.();
    } catch (e) {
      this.options.log.warn(`after subscribing to ${this.options.url}: ${(e as Error).message}`);
    }
  }

  private async receive(socket: WebSocket, text: string): Promise<void> {
    let message: { op?: string; success?: boolean; ret_msg?: string; topic?: string; data?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      this.options.log.warn(`Bybit stream sent something that is not JSON: ${text.slice(0, 80)}`);
      return;
    }
    if (message.topic) {
      try {
        await this.options.onMessage({ topic: message.topic, data: message.data });
      } catch (e) {
        // A message we could not act on must not take the stream down; the reconciler covers what it carried.
        this.options.log.warn(`Bybit stream message on ${message.topic}: ${(e as Error).message}`);
      }
      return;
    }
    switch (message.op) {
      case 'auth':
        if (message.success) this.subscribe(socket);
        else {
          this.options.log.error(
            `Bybit refused the stream's authentication (${message.ret_msg ?? 'no reason'}): check the API key`,
          );
          socket.terminate();
        }
        return;
      case 'subscribe':
        if (!message.success) {
          this.options.log.error(`Bybit refused a subscription: ${message.ret_msg ?? ''}`);
          return;
        }
        this.pendingSubscriptions--;
        if (this.pendingSubscriptions === 0) await this.subscribed();
        return;
      case 'ping':
      case 'pong':
        if (this.pongDeadline) clearTimeout(this.pongDeadline);
        this.pongDeadline = null;
        return;
      default:
        return;
    }
  }

  private startPinging(socket: WebSocket): void {
    const pingMs = this.options.pingMs ?? 20_000;
    const pongTimeoutMs = this.options.pongTimeoutMs ?? 10_000;
    this.pingTimer = setInterval(() => {
      if (socket.readyState !== WebSocket.OPEN) return;
      socket.send(JSON.stringify({ req_id: 'ping', op: 'ping' }));
      if (!this.pongDeadline) {
        this.pongDeadline = setTimeout(() => {
          this.options.log.warn(
            `Bybit stream ${this.options.url}: no pong within ${pongTimeoutMs} ms; reconnecting`,
          );
          socket.terminate();
        }, pongTimeoutMs);
      }
    }, pingMs);
  }

  private clearTimers(): void {
    for (const t of [this.reconnectTimer, this.pongDeadline]) if (t) clearTimeout(t);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.reconnectTimer = null;
    this.pongDeadline = null;
    this.pingTimer = null;
  }

  private scheduleReconnect(): void {
    this.clearTimers();
    this.socket = null;
    if (this.stopped) return;
    this.setStatus('down');
    const delay = this.backoffMs;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    this.options.log.warn(`Bybit stream ${this.options.url} closed; reconnecting in ${delay} ms`);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }
}
