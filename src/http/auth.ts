import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../app/actor.js';
import { sameSecret } from '../app/tradingview.js';

export type Need = 'read' | 'operate';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking, once the auth hook has let the request through. */
    actor: Actor | null;
  }
}

const OPERATOR: Actor = { id: 'api-operator', via: 'rest', role: 'operator' };
const READER: Actor = { id: 'api-readonly', via: 'rest', role: 'readonly' };
/**
 * Without API_TOKEN the server listens on loopback and refuses proxied, foreign-Host and foreign-Origin requests
 * (server.ts): whoever gets through is on this machine.
 */
const LOCAL: Actor = { id: 'loopback', via: 'rest', role: 'operator' };

export const BOARD_COOKIE = 'gridops_board';
/** A queue board session lasts 12 hours, whatever the browser keeps. */
export const BOARD_SESSION_MS = 12 * 3_600_000;
/** Several api processes issue sessions: a cookie from a clock a little ahead is still taken. */
const BOARD_CLOCK_SKEW_MS = 5 * 60_000;

/** Wrong credentials: this many from one address within the window, and it waits for the window to pass. */
export const AUTH_FAILURE_LIMIT = 10;
export const AUTH_FAILURE_WINDOW_MS = 60_000;
const AUTH_FAILURE_ADDRESSES = 10_000;

/**
 * Failed authentications per address, in memory (each api process protects itself). A window opens at an address's
 * first failure; at the limit the address is refused, right token or not, until the window ends, so guessing
 * costs a minute per ten tries and a lucky guess is not told apart. The map is bounded: past its size, ended
 * windows go first, then the oldest.
 */
export class FailureLimiter {
  private readonly entries = new Map<string, { count: number; sinceMs: number }>();

  constructor(
    private readonly limit = AUTH_FAILURE_LIMIT,
    private readonly windowMs = AUTH_FAILURE_WINDOW_MS,
    private readonly now: () => number = Date.now,
    private readonly maxAddresses = AUTH_FAILURE_ADDRESSES,
  ) {}

  /** 0 when the address may try; otherwise how long it must wait, in ms. */
  blockedFor(address: string): number {
    const e = this.entries.get(address);
    if (!e) return 0;
    const left = e.sinceMs + this.windowMs - this.now();
    if (left <= 0) {
      this.entries.delete(address);
      return 0;
    }
    return e.count >= this.limit ? left : 0;
  }

  fail(address: string): void {
    const now = this.now();
    let e = this.entries.get(address);
    if (!e || now - e.sinceMs >= this.windowMs) e = { count: 0, sinceMs: now };
    e.count += 1;
    this.entries.delete(address);
    this.entries.set(address, e);
    if (this.entries.size > this.maxAddresses) this.evict(now);
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(now: number): void {
    for (const [k, e] of this.entries) if (now - e.sinceMs >= this.windowMs) this.entries.delete(k);
    // Insertion order is the order of last failure: the least recent go first.
    for (const k of this.entries.keys()) {
      if (this.entries.size <= this.maxAddresses) break;
      this.entries.delete(k);
    }
  }
}

/**
 * Bearer tokens: API_TOKEN may do everything, API_READONLY_TOKEN may only read. Tokens are compared in constant time
 * (hashed to one length first), and both are always compared, so the timing does not say which one nearly matched.
 */
export class TokenAuth {
  readonly failures: FailureLimiter;

  constructor(
    private readonly operatorToken: string | undefined,
    private readonly readonlyToken: string | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.failures = new FailureLimiter(AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS, now);
  }

  /** No token configured: everyone who gets past the open-mode guard (this machine) is an operator. */
  get open(): boolean {
    return this.operatorToken === undefined;
  }

  actorFor(token: string | null): Actor | null {
    if (this.open) return LOCAL;
    if (token === null) return null;
    const operator = sameSecret(token, this.operatorToken ?? '');
    const reader = this.readonlyToken !== undefined && sameSecret(token, this.readonlyToken);
    if (operator) return OPERATOR;
    if (reader) return READER;
    return null;
  }

  /** As actorFor, and a token that was sent and is wrong counts against the sender's address. */
  check(address: string, token: string | null): Actor | null {
    const actor = this.actorFor(token);
    if (!actor && token !== null) this.failures.fail(address);
    return actor;
  }

  /**
   * The queue board is a browser app that cannot send headers: a sign-in sets a cookie holding its issue time and an
   * HMAC of it keyed by the operator token (never the token itself). Changing API_TOKEN ends every session.
   */
  boardCookieValue(issuedAtMs: number): string {
    const mac = createHmac('sha256', this.operatorToken ?? '')
      .update(`gridops-queue-board:${issuedAtMs}`)
      .digest('base64url');
    return `${issuedAtMs}.${mac}`;
  }

  boardCookie(secure: boolean): string {
    return `${BOARD_COOKIE}=${this.boardCookieValue(this.now())}; Path=/queues; HttpOnly; SameSite=Strict; Max-Age=${BOARD_SESSION_MS / 1000}${secure ? '; Secure' : ''}`;
  }

  clearBoardCookie(secure: boolean): string {
    return `${BOARD_COOKIE}=; Path=/queues; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
  }

  /** A board session cookie this server issued, less than 12 hours ago. */
  hasBoardSession(cookieHeader: string | undefined): boolean {
    if (this.open) return true;
    for (const part of (cookieHeader ?? '').split(';')) {
      const [name, value] = part.trim().split('=');
      if (name !== BOARD_COOKIE || value === undefined) continue;
      const m = /^(\d{1,15})\.[\w-]+$/.exec(value);
      if (!m) continue;
      const issuedAtMs = Number(m[1]);
      const age = this.now() - issuedAtMs;
      if (age >= BOARD_SESSION_MS || age < -BOARD_CLOCK_SKEW_MS) continue;
      if (sameSecret(value, this.boardCookieValue(issuedAtMs))) return true;
    }
    return false;
  }
}

export function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/** 429 for an address that failed too often (sent, and true returned); false when it may go on. */
export async function refuseLockedOut(
  auth: TokenAuth,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<boolean> {
  const wait = auth.open ? 0 : auth.failures.blockedFor(request.ip);
  if (wait <= 0) return false;
  await reply
    .code(429)
    .header('retry-after', String(Math.ceil(wait / 1000)))
    .send({ error: 'too many failed sign-ins from this address; wait and try again', code: 'rate-limited' });
  return true;
}

/**
 * An onRequest hook: 429 for an address that failed too often, 401 without a valid bearer token, 403 for a read-only
 * token on anything but GET and HEAD. Only the Authorization header authorizes: a cookie never does here.
 */
export function requireToken(auth: TokenAuth, need?: Need) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (await refuseLockedOut(auth, request, reply)) return reply;
    const actor = auth.check(request.ip, bearer(request));
    if (!actor) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="gridops"')
        .send({ error: 'a valid bearer token is required', code: 'unauthorized' });
      return reply;
    }
    const wants = need ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'operate');
    if (wants === 'operate' && actor.role !== 'operator') {
      await reply.code(403).send({ error: 'this token may only read', code: 'forbidden' });
      return reply;
    }
    request.actor = actor;
  };
}
