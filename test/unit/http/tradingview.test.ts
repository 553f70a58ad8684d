import { describe, expect, it } from 'vitest';
import { normalizeSymbol, parseAlert, sameSecret } from '../../../src/app/tradingview.js';
import { allowList, plainIp, RateLimiter } from '../../../src/http/webhook.js';

const SECRET = 'correct horse';
const known = (s: string) => ['BTCUSDT', 'ETHUSDT'].includes(s);
const parse = (body: string) => parseAlert(body, SECRET, known);
const body = (fields: Record<string, unknown>) => JSON.stringify({ passphrase: SECRET, ...fields });

describe('TradingView alert parsing', () => {
  it("accepts the seed's payload and maps each action to its grid operation", () => {
    const r = parse(body({ symbol: 'BTCUSDT', action: 'buy', price: 97250.0, zone: 'support' }));
    expect(r).toMatchObject({
      ok: true,
      alert: {
        symbol: 'BTCUSDT',
        action: 'buy',
        operation: 'resume',
        price: '97250',
        zone: 'support',
        externalId: null,
        payload: { symbol: 'BTCUSDT', action: 'buy', price: '97250', zone: 'support' },
      },
    });
    expect(JSON.stringify(r)).not.toContain(SECRET);
    const ops = ['buy', 'long', 'sell', 'short', 'close', 'SELL', ' Long '].map((action) => {
      const p = parse(body({ symbol: 'BTCUSDT', action }));
      return p.ok ? p.alert.operation : p.rejection.code;
    });
    expect(ops).toEqual(['resume', 'resume', 'pause', 'pause', 'stop', 'pause', 'resume']);
  });

  it('reads what TradingView placeholders produce: raw numbers, quoted strings, exchange-prefixed tickers', () => {
    // A template such as {"symbol":"{{exchange}}:{{ticker}}","action":"{{strategy.order.action}}","price":{{close}},
    // "id":"{{strategy.order.id}}-{{timenow}}"} once TradingView has filled it in.
    const filled = `{"symbol":"BYBIT:BTCUSDT","action":"sell","price":97250.5,"id":"Long Exit-2026-01-02T03:04:05Z",
      "interval":"15","time":"2026-01-02T03:00:00Z","passphrase":"${SECRET}"}`;
    const r = parse(filled);
    expect(r.ok && r.alert).toMatchObject({
      symbol: 'BTCUSDT',
      price: '97250.5',
      externalId: 'Long Exit-2026-01-02T03:04:05Z',
      payload: { interval: '15', time: '2026-01-02T03:00:00Z' },
    });
    expect(parse(body({ symbol: 'ethusdt', action: 'long', price: '3400.25', id: 17 }))).toMatchObject({
      ok: true,
      alert: { symbol: 'ETHUSDT', price: '3400.25', externalId: '17' },
    });
    expect(normalizeSymbol(' binance:btcusdt ')).toBe('BTCUSDT');
    expect(normalizeSymbol('BTC/USDT')).toBeNull();
  });

  it('checks the passphrase before anything about the content is said', () => {
    const rejection = (b: string) => {
      const r = parse(b);
      return r.ok ? null : [r.rejection.status, r.rejection.code];
    };
    expect(rejection('{"symbol":"NOPE","action":"dance"}')).toEqual([401, 'unauthorized']);
    expect(rejection('{"symbol":"BTCUSDT","action":"buy","passphrase":"correct horsE"}')).toEqual([
      401,
      'unauthorized',
    ]);
    expect(rejection('{"symbol":"BTCUSDT","action":"buy","passphrase":["correct horse"]}')).toEqual([
      401,
      'unauthorized',
    ]);
    expect(rejection('not json')).toEqual([400, 'malformed']);
    expect(rejection('[1,2]')).toEqual([400, 'malformed']);
    expect(rejection('null')).toEqual([400, 'malformed']);
    expect(rejection(body({ symbol: 'BTCUSDT', action: 'flat' }))).toEqual([422, 'unknown-action']);
    expect(rejection(body({ symbol: 'DOGEUSDT', action: 'buy' }))).toEqual([422, 'unknown-symbol']);
    expect(rejection(body({ symbol: 'BTCUSDT.P', action: 'buy' }))).toEqual([422, 'unknown-symbol']);
  });

  it('refuses wrong types and values Postgres would choke on, as 400s', () => {
    const message = (fields: Record<string, unknown> | string) => {
      const r = parse(typeof fields === 'string' ? fields : body(fields));
      return r.ok ? 'accepted' : `${r.rejection.status} ${r.rejection.message}`;
    };
    expect(message({ symbol: 5, action: 'buy' })).toBe('400 symbol must be a string such as BTCUSDT');
    expect(message({ symbol: 'BTCUSDT', action: true })).toMatch(/^400 action must be a string/);
    expect(message({ symbol: 'BTCUSDT', action: 'buy', price: '{{close}}' })).toBe(
      '400 price must be a plain positive decimal',
    );
    expect(message({ symbol: 'BTCUSDT', action: 'buy', price: -1 })).toMatch(/^400 price/);
    expect(message({ symbol: 'BTCUSDT', action: 'buy', price: 1e300 })).toMatch(/^400 price/);
    expect(message({ symbol: 'BTCUSDT', action: 'buy', id: 1.5 })).toMatch(/^400 id/);
    expect(message({ symbol: 'BTCUSDT', action: 'buy', id: 'x'.repeat(129) })).toMatch(/^400 id/);
    expect(message({ symbol: 'BTCUSDT', action: 'buy', zone: 'a\u0000b' })).toBe(
      '400 the alert contains a NUL character',
    );
    expect(message(`{"passphrase":"${SECRET}","symbol":"BTCUSDT","action":"buy","zone":"\\ud800"}`)).toBe(
      '400 the alert contains invalid Unicode (a lone surrogate)',
    );
    expect(
      message(
        `{"passphrase":"${SECRET}","symbol":"BTCUSDT","action":"buy","x":${'['.repeat(40)}${']'.repeat(40)}}`,
      ),
    ).toMatch(/^400 the alert is nested deeper/);
    // A proper surrogate pair (an emoji) is fine in a free field.
    expect(message({ symbol: 'BTCUSDT', action: 'buy', note: 'moon \u{1F680}' })).toBe('accepted');
  });

  // Protects: zone and grid reach logs, chat messages and the dashboard; before, any text up to 64 characters (a
  // newline, an escape sequence, markup, a right-to-left override) was taken.
  it('takes a zone and a grid reference of letters, digits, space and _ . : - only', () => {
    const message = (fields: Record<string, unknown>) => {
      const r = parse(body({ symbol: 'BTCUSDT', action: 'buy', ...fields }));
      return r.ok ? 'accepted' : `${r.rejection.status} ${r.rejection.message}`;
    };
    expect(message({ zone: 'Support 2: 97,250' })).toBe(
      '400 zone may only hold letters, digits, space and _ . : -',
    );
    for (const zone of ['support', 'S1 weekly', 'fib_0.618', 'BYBIT:BTCUSDT-15m'])
      expect(message({ zone })).toBe('accepted');
    for (const zone of ['a\nb', 'x\u001b[2J', '<b>', 'moon \u{1F680}', '\u202ebuy', 'a\tb', 'déjà'])
      expect(message({ zone })).toMatch(/^400 zone may only hold/);
    expect(message({ grid: 'eth-range' })).toBe('accepted');
    expect(message({ grid: 'g4' })).toBe('accepted');
    for (const grid of ['eth/range', 'g4\r\n', '../g1', '\u200bg4'])
      expect(message({ grid })).toMatch(/^400 grid may only hold/);
  });

  it('the same body hashes the same whatever the key order; the passphrase is not part of it; an id replaces the hash', () => {
    const a = parse(body({ symbol: 'BTCUSDT', action: 'buy', zone: 'z' }));
    const b = parseAlert(
      JSON.stringify({ zone: 'z', action: 'buy', symbol: 'BTCUSDT', passphrase: 'other secret' }),
      'other secret',
      known,
    );
    const c = parse(body({ symbol: 'BTCUSDT', action: 'buy', zone: 'y' }));
    expect(a.ok && b.ok && c.ok).toBe(true);
    if (a.ok && b.ok && c.ok) {
      expect(a.alert.bodyHash).toBe(b.alert.bodyHash);
      expect(a.alert.bodyHash).not.toBe(c.alert.bodyHash);
    }
    // An alert with an id is deduplicated by its id alone.
    const withId = parse(body({ symbol: 'BTCUSDT', action: 'buy', id: 'x1' }));
    expect(withId.ok && withId.alert.bodyHash).toBeNull();
  });

  it('compares secrets of any length', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abcd')).toBe(false);
    expect(sameSecret('', 'abc')).toBe(false);
  });
});

describe('webhook guards', () => {
  it('a token bucket per sender: a burst of the limit, then one more per interval', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(60, () => now);
    const burst = Array.from({ length: 61 }, () => limiter.take('1.2.3.4'));
    expect(burst.slice(0, 60).every((w) => w === 0)).toBe(true);
    expect(burst[60]).toBe(1000);
    expect(limiter.take('5.6.7.8')).toBe(0); // another sender has its own bucket
    now += 1000;
    expect(limiter.take('1.2.3.4')).toBe(0);
    expect(limiter.take('1.2.3.4')).toBeGreaterThan(0);
  });

  it("an allowlist of TradingView's addresses and subnets, IPv4-mapped peers included", () => {
    const list = allowList('52.89.214.238, 34.212.75.30, 10.1.0.0/16, ::1');
    const allowed = (ip: string) => list.check(plainIp(ip), plainIp(ip).includes(':') ? 'ipv6' : 'ipv4');
    expect(allowed('52.89.214.238')).toBe(true);
    expect(allowed('::ffff:34.212.75.30')).toBe(true);
    expect(allowed('10.1.200.3')).toBe(true);
    expect(allowed('::1')).toBe(true);
    expect(allowed('127.0.0.1')).toBe(false);
    expect(allowed('52.89.214.239')).toBe(false);
    expect(() => allowList('52.89.214')).toThrow(/not an address/);
  });
});
