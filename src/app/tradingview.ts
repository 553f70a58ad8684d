import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/*
 * TradingView alerts (protocols.md 5): the message the user types in TradingView, posted as JSON or, when the
 * placeholders made it invalid JSON or the user chose so, as text/plain. TradingView cannot sign requests, so the
 * shared secret travels in the body as `passphrase`.
 */

export const ALERT_SOURCE = 'tradingview';

/** What each action does to the grids of the symbol. */
export const ACTIONS = {
  buy: 'resume',
  long: 'resume',
  sell: 'pause',
  short: 'pause',
  close: 'stop',
} as const;
export type AlertAction = keyof typeof ACTIONS;
export type AlertOperation = (typeof ACTIONS)[AlertAction];

const DECIMAL = /^(?:0|[1-9]\d{0,14})(?:\.\d{1,12})?$/;

/**
 * A zone label or a grid reference (an id, a name, a symbol): letters, digits, space and _ . : - only, so what an
 * alert or a URL names can neither break a log line or chat message nor smuggle markup or controls.
 */
export const REFERENCE = /^[A-Za-z0-9 _.:-]+$/;
export const REFERENCE_CHARS = 'letters, digits, space and _ . : -';

export const TradingViewAlert = z.looseObject({
  passphrase: z.string({ error: 'passphrase must be a string' }),
  symbol: z
    .string({ error: 'symbol must be a string such as BTCUSDT' })
    .min(1, { error: 'symbol must be a string such as BTCUSDT' })
    .max(64, { error: 'symbol is too long' }),
  action: z
    .string({ error: 'action must be a string (buy, long, sell, short or close)' })
    .max(32, { error: 'action is too long' }),
  /**
   * Informational (the alert's {{close}}), recorded and shown, never traded on. TradingView substitutes numbers raw,
   * so it arrives as a JSON number or as a string; a number is read back as the shortest decimal that round-trips,
   * which is the text TradingView sent for any price of up to 15 significant digits.
   */
  price: z
    .union([z.string(), z.number()], { error: 'price must be a number or a decimal string' })
    .transform((v) => (typeof v === 'number' ? String(v) : v.trim()))
    .pipe(z.string().regex(DECIMAL, { error: 'price must be a plain positive decimal' }))
    .optional(),
  zone: z
    .string({ error: 'zone must be a string' })
    .max(64, { error: 'zone is too long' })
    .regex(REFERENCE, { error: `zone may only hold ${REFERENCE_CHARS}` })
    .optional(),
  /** For deduplication: an alert whose id was seen before is acknowledged and not acted on again. */
  id: z
    .union([z.string(), z.number().int().nonnegative()], { error: 'id must be a string or a whole number' })
    .transform((v) => String(v))
    .pipe(z.string().min(1, { error: 'id must not be empty' }).max(128, { error: 'id is too long' }))
    .optional(),
  /** Acts on this grid (its id or name) only, rather than on every grid of the symbol. */
  grid: z
    .string({ error: 'grid must be a grid id or name' })
    .min(1, { error: 'grid must not be empty' })
    .max(64, { error: 'grid is too long' })
    .regex(REFERENCE, { error: `grid may only hold ${REFERENCE_CHARS}` })
    .optional(),
});

export interface ParsedAlert {
  readonly symbol: string;
  readonly action: AlertAction;
  readonly operation: AlertOperation;
  readonly price: string | null;
  readonly zone: string | null;
  readonly externalId: string | null;
  readonly grid: string | null;
  /** The message as recorded: every field the sender put in, less the passphrase. */
  readonly payload: Record<string, unknown>;
  /** Identifies the body for deduplication within a window (the passphrase left out); null when it has an id. */
  readonly bodyHash: string | null;
}

/**
 * Why an alert is refused: not JSON (or not an object), fields of the wrong shape, the wrong passphrase, an action or
 * a symbol not known here. The webhook says each in its protocol (src/http/webhook.ts).
 */
export type AlertRejectionKind =
  | 'malformed'
  | 'invalid'
  | 'unauthorized'
  | 'unknown-action'
  | 'unknown-symbol';

export interface AlertRejection {
  readonly kind: AlertRejectionKind;
  readonly message: string;
}

const MAX_DEPTH = 16;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Checks an alert body from the top: JSON, then the passphrase (before anything about the content is said to an
 * unauthenticated sender), then the fields, the action and the symbol. Pure: never throws on any input.
 */
export function parseAlert(
  body: string,
  passphrase: string,
  knownSymbol: (symbol: string) => boolean,
): { ok: true; alert: ParsedAlert } | { ok: false; rejection: AlertRejection } {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return reject('malformed', 'the body is not JSON (TradingView sends the alert message as it is typed)');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return reject('malformed', 'the body must be a JSON object');
  }
  const given = (raw as Record<string, unknown>).passphrase;
  if (typeof given !== 'string' || !sameSecret(given, passphrase)) {
    return reject('unauthorized', 'missing or wrong passphrase');
  }
  // Postgres's jsonb takes neither NUL nor half a surrogate pair, and deep nesting only costs: refused here as invalid.
  const shape = checkValue(raw, 0);
  if (shape) return reject('invalid', shape);
  const parsed = TradingViewAlert.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    const message = issue?.message ?? 'invalid alert';
    return reject('invalid', field && !message.startsWith(field) ? `${field}: ${message}` : message);
  }
  const a = parsed.data;
  const action = a.action.trim().toLowerCase();
  if (!Object.hasOwn(ACTIONS, action)) {
    return reject(
      'unknown-action',
      `unknown action "${clip(a.action)}": use buy, long, sell, short or close`,
    );
  }
  const symbol = normalizeSymbol(a.symbol);
  if (!symbol || !knownSymbol(symbol)) {
    return reject('unknown-symbol', `unknown symbol "${clip(a.symbol)}": not traded here`);
  }
  const { passphrase: _secret, ...rest } = raw as Record<string, unknown>;
  const payload: Record<string, unknown> = { ...rest, symbol, action };
  if (a.price !== undefined) payload.price = a.price;
  if (a.id !== undefined) payload.id = a.id;
  return {
    ok: true,
    alert: {
      symbol,
      action: action as AlertAction,
      operation: ACTIONS[action as AlertAction],
      price: a.price ?? null,
      zone: a.zone ?? null,
      externalId: a.id ?? null,
      grid: a.grid ?? null,
      payload,
      bodyHash: a.id === undefined ? hashBody(payload) : null,
    },
  };
}

/** {{ticker}} gives BTCUSDT; "{{exchange}}:{{ticker}}" (a common template) gives BYBIT:BTCUSDT. */
export function normalizeSymbol(text: string): string | null {
  const ticker = text.trim().toUpperCase().split(':').pop() ?? '';
  return /^[A-Z0-9]{2,20}$/.test(ticker) ? ticker : null;
}

/** Constant time in the content and in the length: both sides are hashed to the same size first. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  return timingSafeEqual(a, digestOf(expected));
}

// The configured secrets are few and fixed: their digests are kept rather than recomputed per request.
const digests = new Map<string, Buffer>();
function digestOf(secret: string): Buffer {
  let d = digests.get(secret);
  if (!d) {
    d = createHash('sha256').update(secret, 'utf8').digest();
    if (digests.size < 16) digests.set(secret, d);
  }
  return d;
}

function hashBody(payload: Record<string, unknown>): string {
  const keys = Object.keys(payload).sort();
  return createHash('sha256')
    .update(JSON.stringify(keys.map((k) => [k, payload[k]])))
    .digest('hex')
    .slice(0, 32);
}

function checkValue(value: unknown, depth: number): string | null {
  if (depth > MAX_DEPTH) return `the alert is nested deeper than ${MAX_DEPTH} levels`;
  if (typeof value === 'string') return textProblem(value);
  if (typeof value !== 'object' || value === null) return null;
  for (const [k, v] of Object.entries(value)) {
    const problem = textProblem(k) ?? checkValue(v, depth + 1);
    if (problem) return problem;
  }
  return null;
}

function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'the alert contains a NUL character';
  if (LONE_SURROGATE.test(s)) return 'the alert contains invalid Unicode (a lone surrogate)';
  return null;
}

function clip(s: string): string {
  const printable = s.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 24 ? `${printable.slice(0, 24)}...` : printable;
}

function reject(kind: AlertRejectionKind, message: string): { ok: false; rejection: AlertRejection } {
  return { ok: false, rejection: { kind, message } };
}
