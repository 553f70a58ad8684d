import { pino } from 'pino';

export type Logger = pino.Logger;

export interface LoggerOptions {
  readonly level: string;
  readonly format: 'auto' | 'json' | 'pretty';
  readonly isTty: boolean;
  /** Where JSON lines go (stdout by default). */
  readonly destination?: pino.DestinationStream;
}

const REDACTED = '[redacted]';

/**
 * A field whose name holds one of these words never shows its value, at any depth: HTTP headers (authorization,
 * cookie, set-cookie, x-api-key, Bybit's x-bapi-api-key and x-bapi-sign), the passphrase, tokens, secrets, passwords,
 * API and private keys (BYBIT_API_KEY, apiKey, api_key).
 */
const SECRET_NAME =
  /authorization|cookie|passphrase|token|secret|password|api[-_]?key|x-bapi-sign|private[-_]?key/i;

/**
 * Secrets inside text (an error message, a URL): a bearer token, a Telegram bot token in an API path, a passphrase or
 * token in a JSON or query fragment.
 */
const SECRET_TEXT: readonly [RegExp, string][] = [
  [/\bBearer\s+[^\s"',;]+/gi, `Bearer ${REDACTED}`],
  [/\/bot\d+:[\w-]+/g, `/bot${REDACTED}`],
  [/("?(?:passphrase|token|secret|password|api[-_]?key)"?\s*[:=]\s*"?)[^"&\s,}]+/gi, `$1${REDACTED}`],
];

/**
 * C0 and C1 control characters (newlines, escape sequences), DEL and the Unicode line separators: escaped as \u00XX
 * text, so that a hostile alert body or chat message can neither forge a log line nor drive a terminal.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what it is for.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const MAX_DEPTH = 8;

/** A string as it may be logged: controls escaped, embedded secrets masked. */
export function cleanText(s: string): string {
  let out = s.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  for (const [pattern, replacement] of SECRET_TEXT) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A copy of a logged value that is safe to write: secret fields masked and strings cleaned at any depth, errors
 * turned into their usual {type, message, stack} first. Objects other than plain ones and arrays (dates, decimals,
 * buffers) are written as they serialize themselves.
 */
export function cleanValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (value instanceof Error) return cleanValue(errorFields(value), depth);
  if (Array.isArray(value)) return value.map((v) => cleanValue(v, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[cleanText(k)] =
      SECRET_NAME.test(k) && v !== null && v !== undefined ? REDACTED : cleanValue(v, depth + 1);
  }
  return out;
}

function errorFields(e: Error): Record<string, unknown> {
  // pino's serializer (type, message and stack with their causes, and the error's own fields), as a plain object.
  return { ...(pino.stdSerializers.err(e) as unknown as Record<string, unknown>) };
}

/**
 * pino: JSON lines for machines, pretty lines on a terminal. Every logged object and message goes through
 * cleanValue/cleanText, so secrets are redacted and control characters escaped wherever they appear.
 */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && options.isTty);
  const settings: pino.LoggerOptions = {
    level: options.level,
    base: null,
    formatters: {
      log: (object) => cleanValue(object) as Record<string, unknown>,
      bindings: (bindings) => cleanValue(bindings) as Record<string, unknown>,
    },
    // Errors were turned into plain fields by the formatter above; pino's own serializer would rename their type.
    serializers: { err: (value: unknown) => value },
    hooks: {
      logMethod(args, method) {
        const cleaned = args.map((a) => (typeof a === 'string' ? cleanText(a) : a));
        return method.apply(this, cleaned as Parameters<typeof method>);
      },
    },
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: {
              colorize: true,
              singleLine: true,
              translateTime: 'SYS:HH:MM:ss',
              ignore: 'pid,hostname,component',
            },
          },
        }
      : {}),
  };
  return options.destination && !pretty ? pino(settings, options.destination) : pino(settings);
}
