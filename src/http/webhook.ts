import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AlertIntake } from '../app/alerts.js';
import type { RecentAlertBodies } from '../app/ports/tradingview.js';
import { type AlertRejectionKind, parseAlert, TradingViewAlert } from '../app/tradingview.js';
import type { Logger } from '../log/logger.js';
import type { Metrics, WebhookOutcome } from './metrics.js';

export const WEBHOOK_PATH = '/webhook/tradingview';

export interface WebhookOptions {
  readonly passphrase: string | undefined;
  /** Comma-separated addresses or CIDRs; undefined: any sender. */
  readonly allowedIps: string | undefined;
  readonly bodyLimit: number;
  readonly ratePerMinute: number;
  readonly dedupeWindowMs: number;
  /** Where the bodies of alerts without an id are remembered for the dedupe window. */
  readonly recentBodies: RecentAlertBodies;
  readonly knownSymbol: (symbol: string) => boolean;
  readonly intake: AlertIntake;
  readonly metrics: Metrics;
  readonly log: Logger;
}

declare module 'fastify' {
  interface FastifyRequest {
    webhookOutcome: WebhookOutcome | null;
  }
}

/**
 * POST /webhook/tradingview. Checks run cheapest and least revealing first: the sender's address and rate before the
 * body is read, the content type and size while it is, then JSON, the passphrase, the fields, the action and the
 * symbol. Only an alert that passes all of them is recorded and queued; the answer does not wait for the grids.
 */
export async function webhookRoutes(app: FastifyInstance, options: WebhookOptions): Promise<void> {
  const { metrics } = options;
  app.decorateRequest('webhookOutcome', null);
  // Counted when decided, not when the answer is sent: an alert recorded for a client that hung up is still counted.
  const decide = (request: FastifyRequest, outcome: WebhookOutcome) => {
    request.webhookOutcome = outcome;
    metrics.webhook.inc({ outcome });
  };
  app.addHook('onResponse', async (request, reply) => {
    if (request.webhookOutcome === null) metrics.webhook.inc({ outcome: outcomeOf(reply.statusCode) });
  });

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    if (error.statusCode === 413) {
      decide(request, 'too-large');
      return refuse(
        reply,
        413,
        'too-large',
        `the alert is larger than ${options.bodyLimit} bytes (TV_BODY_LIMIT)`,
      );
    }
    if (error.statusCode === 415) {
      decide(request, 'unsupported-type');
      return refuse(reply, 415, 'unsupported-type', 'send the alert as application/json or text/plain');
    }
    // Anything else is answered by the server's handler.
    throw error;
  });

  // TradingView posts application/json when the message is JSON and text/plain otherwise; both are read as text
  // and parsed here, so a JSON error is the same 400 whichever header came with it. Any other type is a 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'text/plain'],
    { parseAs: 'string', bodyLimit: options.bodyLimit },
    (_request, body, done) => done(null, body),
  );

  const passphrase = options.passphrase;
  if (passphrase === undefined) {
    app.post(WEBHOOK_PATH, { schema: WEBHOOK_SCHEMA }, async (request, reply) => {
      decide(request, 'disabled');
      return reply.code(404).send({
        error: 'the TradingView webhook is disabled: set TV_PASSPHRASE to enable it',
        code: 'disabled',
      });
    });
    return;
  }

  const allowed = options.allowedIps ? allowList(options.allowedIps) : null;
  const limiter = new RateLimiter(options.ratePerMinute);
  app.addHook('onRequest', async (request, reply) => {
    const ip = plainIp(request.ip);
    if (allowed && !allowed.check(ip, isIPv6(ip) ? 'ipv6' : 'ipv4')) {
      decide(request, 'forbidden-source');
      return refuse(reply, 403, 'forbidden', `${ip} may not post alerts (TV_ALLOWED_IPS)`);
    }
    const wait = limiter.take(ip);
    if (wait > 0) {
      decide(request, 'rate-limited');
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      return refuse(reply, 429, 'rate-limited', 'too many alerts from this address; slow down');
    }
  });

  app.post(WEBHOOK_PATH, { bodyLimit: options.bodyLimit, schema: WEBHOOK_SCHEMA }, async (request, reply) => {
    const body = typeof request.body === 'string' ? request.body : '';
    const parsed = parseAlert(body, passphrase, options.knownSymbol);
    if (!parsed.ok) {
      const { kind, message } = parsed.rejection;
      decide(request, kind);
      return refuse(reply, REJECTION_STATUS[kind], kind, message);
    }
    const alert = parsed.alert;
    // Without an id, the same body within the window is the same alert (a resend, a double fire).
    let seen: string | null = null;
    if (alert.bodyHash !== null && options.dedupeWindowMs > 0) {
      seen = alert.bodyHash;
      if (!(await options.recentBodies.claim(seen, options.dedupeWindowMs))) {
        decide(request, 'duplicate');
        return reply.code(200).send({ status: 'duplicate', alert: null });
      }
    }
    let result: Awaited<ReturnType<AlertIntake['submit']>>;
    try {
      result = await options.intake.submit(alert, plainIp(request.ip));
    } catch (e) {
      // Not recorded: forget the body, so that a resend is not taken for a duplicate of an alert that never was.
      if (seen) await options.recentBodies.forget(seen).catch(() => undefined);
      throw e;
    }
    if (result.duplicate) {
      decide(request, 'duplicate');
      return reply.code(200).send({ status: 'duplicate', alert: result.alertId });
    }
    decide(request, 'accepted');
    return reply.code(202).send({
      status: 'accepted',
      alert: result.alertId,
      symbol: alert.symbol,
      action: alert.action,
      operation: alert.operation,
    });
  });
}

const Refusal = z.object({ error: z.string(), code: z.string() });

/** For the OpenAPI document only: the route reads its body itself (it may come as text/plain). */
const WEBHOOK_SCHEMA = {
  tags: ['webhook'],
  summary: 'A TradingView alert (JSON, or text/plain holding JSON); the passphrase is TV_PASSPHRASE',
  description:
    'buy/long resume the grids of the symbol, sell/short pause them, close stops them (or only the grid named by ' +
    '`grid`). Answered at once; the outcome is recorded on the alert (GET /api/alerts) and sent to the chat. An id ' +
    'seen before, or the same body within TV_DEDUPE_WINDOW_MS, is acknowledged as a duplicate and not acted on.',
  body: TradingViewAlert,
  response: {
    202: z.object({
      status: z.literal('accepted'),
      alert: z.string(),
      symbol: z.string(),
      action: z.string(),
      operation: z.enum(['resume', 'pause', 'stop']),
    }),
    200: z.object({ status: z.literal('duplicate'), alert: z.string().nullable() }),
    400: Refusal,
    401: Refusal,
    403: Refusal,
    404: Refusal,
    413: Refusal,
    415: Refusal,
    422: Refusal,
    429: Refusal,
  },
};

function refuse(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: message, code });
}

/** The parser's refusals in HTTP: a body that is not an alert is 400, a wrong passphrase 401, an unknown action or symbol 422. */
export const REJECTION_STATUS: Readonly<Record<AlertRejectionKind, 400 | 401 | 422>> = {
  malformed: 400,
  invalid: 400,
  unauthorized: 401,
  'unknown-action': 422,
  'unknown-symbol': 422,
};

function outcomeOf(status: number): WebhookOutcome {
  if (status === 413) return 'too-large';
  if (status === 415) return 'unsupported-type';
  if (status === 400) return 'malformed';
  if (status >= 500) return 'error';
  return 'invalid';
}

/** Node reports IPv4 peers on a dual-stack socket as ::ffff:a.b.c.d. */
export function plainIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

export function allowList(text: string): BlockList {
  const list = new BlockList();
  for (const entry of text.split(',').map((s) => s.trim())) {
    if (!entry) continue;
    const [address, bits] = entry.split('/');
    const type = isIPv4(address ?? '') ? 'ipv4' : 'ipv6';
    if (!isIPv4(address ?? '') && !isIPv6(address ?? ''))
      throw new Error(`TV_ALLOWED_IPS: ${entry} is not an address`);
    if (bits === undefined) list.addAddress(address!, type);
    else list.addSubnet(address!, Number(bits), type);
  }
  return list;
}

/**
 * A token bucket per sender address: `perMinute` alerts in a burst, refilled evenly over the minute. In memory: each
 * api process limits what reaches it, which is what protects it.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** 0 when allowed; otherwise how long until the next alert would be, in ms. */
  take(key: string): number {
    const now = this.now();
    const rate = this.perMinute / 60_000;
    const b = this.buckets.get(key) ?? { tokens: this.perMinute, atMs: now };
    b.tokens = Math.min(this.perMinute, b.tokens + (now - b.atMs) * rate);
    b.atMs = now;
    this.buckets.set(key, b);
    if (this.buckets.size > 10_000) this.prune(now, rate);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / rate);
  }

  /** Full buckets say nothing a new one would not: dropped, so a flood of addresses cannot grow the map forever. */
  private prune(now: number, rate: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + (now - b.atMs) * rate >= this.perMinute) this.buckets.delete(k);
    }
  }
}
