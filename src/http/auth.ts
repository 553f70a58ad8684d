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
/** Without API_TOKEN the server only listens on loopback: whoever reaches it is on this machine. */
const LOCAL: Actor = { id: 'loopback', via: 'rest', role: 'operator' };

const BOARD_COOKIE = 'gridops_board';

/**
 * Bearer tokens: API_TOKEN may do everything, API_READONLY_TOKEN may only read. Tokens are compared in constant time
 * (hashed to one length first), and both are always compared, so the timing does not say which one nearly matched.
 */
export class TokenAuth {
  constructor(
    private readonly operatorToken: string | undefined,
    private readonly readonlyToken: string | undefined,
  ) {}

  /** No token configured: everyone who reaches the (loopback-only) server is an operator. */
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

  /** The queue board is a browser app that cannot send headers: a sign-in sets this cookie (never the token). */
  boardCookieValue(): string {
    return createHmac('sha256', this.operatorToken ?? '')
      .update('gridops-queue-board')
      .digest('base64url');
  }

  boardCookie(secure: boolean): string {
    return `${BOARD_COOKIE}=${this.boardCookieValue()}; Path=/queues; HttpOnly; SameSite=Strict; Max-Age=43200${secure ? '; Secure' : ''}`;
  }

  hasBoardCookie(cookieHeader: string | undefined): boolean {
    if (this.open) return true;
    for (const part of (cookieHeader ?? '').split(';')) {
      const [name, value] = part.trim().split('=');
      if (name === BOARD_COOKIE && value !== undefined && sameSecret(value, this.boardCookieValue()))
        return true;
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

/** An onRequest hook: 401 without a valid token, 403 for a read-only token on anything but GET and HEAD. */
export function requireToken(auth: TokenAuth, need?: Need) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const actor = auth.actorFor(bearer(request));
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
