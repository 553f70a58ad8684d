import { pino } from 'pino';

export type Logger = pino.Logger;

export interface LoggerOptions {
  readonly level: string;
  readonly format: 'auto' | 'json' | 'pretty';
  readonly isTty: boolean;
}

/** pino: JSON lines for machines, pretty lines on a terminal. Secrets are redacted wherever they appear. */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && options.isTty);
  return pino({
    level: options.level,
    base: null,
    redact: {
      paths: ['*.apiKey', '*.apiSecret', '*.token', '*.password', 'apiKey', 'apiSecret', 'token', 'password'],
      censor: '[redacted]',
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
  });
}
