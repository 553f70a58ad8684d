import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log/logger.js';

function capture() {
  const lines: string[] = [];
  let partial = '';
  const destination = new Writable({
    write(chunk, _encoding, done) {
      partial += chunk.toString();
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      done();
    },
  });
  const log = createLogger({ level: 'info', format: 'json', isTty: false, destination });
  return { log, lines, text: () => lines.join('\n') };
}

describe('logs', () => {
  it('never carry a secret, at the top level or nested', () => {
    const { log, text } = capture();
    log.info(
      { apiSecret: 's3cr3t-1', bybit: { apiKey: 'k3y-2', apiSecret: 's3cr3t-3' }, token: 't0k3n-4' },
      'connecting',
    );
    log.info({ config: { BYBIT_API_SECRET: 's3cr3t-5' } }, 'config');
    expect(text()).toMatch(/connecting/);
    for (const secret of ['s3cr3t-1', 'k3y-2', 's3cr3t-3', 't0k3n-4', 's3cr3t-5'])
      expect(text()).not.toContain(secret);
    expect(text()).toContain('[redacted]');
  });

  // Protects: headers and bodies logged whole (a request, a webhook body, an upstream error's config) at any depth,
  // under any name holding a secret word. Before: only six names, two levels deep.
  it('redacts authorization, cookies, passphrases, tokens, secrets and keys at any depth and in any case', () => {
    const { log, lines } = capture();
    log.warn(
      {
        req: {
          headers: {
            authorization: 'Bearer op-AAAA',
            cookie: 'gridops_board=cookie-BBBB',
            'set-cookie': ['gridops_board=cookie-CCCC'],
            'x-api-key': 'key-DDDD',
            'x-bapi-api-key': 'key-EEEE',
            'x-bapi-sign': 'sign-FFFF',
          },
        },
        a: { b: { c: { d: { alert: { passphrase: 'pass-GGGG', zone: 'support' } } } } },
        list: [{ TELEGRAM_BOT_TOKEN: 'tg-HHHH' }, { webhookSecret: 'sec-IIII' }],
        user: { Password: 'pw-JJJJ', api_key: 'key-KKKK', privateKey: 'pk-LLLL' },
      },
      'request',
    );
    const line = lines.join('\n');
    for (const secret of [
      'AAAA',
      'BBBB',
      'CCCC',
      'DDDD',
      'EEEE',
      'FFFF',
      'GGGG',
      'HHHH',
      'IIII',
      'JJJJ',
      'KKKK',
      'LLLL',
    ])
      expect(line).not.toContain(secret);
    const parsed = JSON.parse(lines[0]!) as { a: { b: { c: { d: { alert: Record<string, string> } } } } };
    // What is not secret stays readable.
    expect(parsed.a.b.c.d.alert).toEqual({ passphrase: '[redacted]', zone: 'support' });
  });

  // Protects: secrets inside text, such as a bearer token echoed in an error or a Telegram bot token in a URL.
  it('masks secrets inside messages and error text', () => {
    const { log, text } = capture();
    log.error(
      new Error('POST https://api.telegram.org/bot123456:AAH-secret_Token/sendMessage failed'),
      'Authorization: Bearer op-token-MMMM was refused; body {"passphrase":"pass-NNNN","symbol":"BTCUSDT"}',
    );
    expect(text()).not.toMatch(/MMMM|NNNN|AAH-secret_Token/);
    expect(text()).toContain('BTCUSDT');
    expect(text()).toContain('"type":"Error"');
  });

  // Protects: a hostile TradingView body or chat text forging a log line (a newline then a fake entry) or driving a
  // terminal with escape sequences, in the message or in any string field. Before: pretty mode printed them raw.
  it('escapes control characters in messages, fields and keys, so one call is one line', () => {
    const { log, lines } = capture();
    const hostile = 'buy\n{"level":30,"msg":"kill switch reset"}\r\u001b[2J\u0085\u2028end';
    log.info({ zone: hostile, nested: { 'k\ney': [hostile] } }, `alert ${hostile}`);
    log.info('unknown action "%s"', hostile);
    expect(lines).toHaveLength(2);
    // Not merely JSON-escaped (a pretty terminal would print them): no key or string holds one once decoded.
    const strings = (v: unknown): string[] =>
      typeof v === 'string'
        ? [v]
        : v && typeof v === 'object'
          ? Object.entries(v).flatMap(([k, x]) => [k, ...strings(x)])
          : [];
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
    const control = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
    for (const line of lines) for (const s of strings(JSON.parse(line))) expect(s).not.toMatch(control);
    const first = JSON.parse(lines[0]!) as { msg: string; zone: string; nested: Record<string, string[]> };
    expect(first.zone).toBe(
      'buy\\u000a{"level":30,"msg":"kill switch reset"}\\u000d\\u001b[2J\\u0085\\u2028end',
    );
    expect(Object.keys(first.nested)).toEqual(['k\\u000aey']);
    expect(JSON.parse(lines[1]!).msg).toMatch(/^unknown action "buy\\u000a/);
  });
});
