import { pino } from 'pino';

export type Logger = pino.Logger;

export interface LoggerOptions {
  readonly level: string;
  readonly format: 'auto' | 'json' | 'pretty';
  readonly isTty: boolean;
  /** Where JSON lines go (stdout by default). */
  readonly destination?: pino.DestinationStream;
}

/** Field names whose values never reach a log line, at the top level or one level down. */
const SECRET_FIELDS = [
  'apiKey',
  'apiSecret',
  'secret',
  'token',
  'password',
  'BYBIT_API_KEY',
  'BYBIT_API_SECRET',
];

/** pino: JSON lines for machines, pretty lines on a terminal. Secrets are redacted wherever they appear. */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && options.isTty);
  const settings: pino.LoggerOptions = {
    level: options.level,
    base: null,
    redact: { paths: SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]), censor: '[redacted]' },
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
