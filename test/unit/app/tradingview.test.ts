import { describe, expect, it } from 'vitest';
import { normalizeSymbol, parseAlert, sameSecret } from '../../../src/app/tradingview.js';

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
      return p.ok ? p.alert.operation : p.rejection.kind;
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
      return r.ok ? null : r.rejection.kind;
    };
    expect(rejection('{"symbol":"NOPE","action":"dance"}')).toBe('unauthorized');
    expect(rejection('{"symbol":"BTCUSDT","action":"buy","passphrase":"correct horsE"}')).toBe(
      'unauthorized',
    );
    expect(rejection('{"symbol":"BTCUSDT","action":"buy","passphrase":["correct horse"]}')).toBe(
      'unauthorized',
    );
    expect(rejection('not json')).toBe('malformed');
    expect(rejection('[1,2]')).toBe('malformed');
    expect(rejection('null')).toBe('malformed');
    expect(rejection(body({ symbol: 'BTCUSDT', action: 'flat' }))).toBe('unknown-action');
    expect(rejection(body({ symbol: 'DOGEUSDT', action: 'buy' }))).toBe('unknown-symbol');
    expect(rejection(body({ symbol: 'BTCUSDT.P', action: 'buy' }))).toBe('unknown-symbol');
  });

  it('refuses wrong types and values Postgres would choke on as invalid', () => {
    const message = (fields: Record<string, unknown> | string) => {
      const r = parse(typeof fields === 'string' ? fields : body(fields));
      return r.ok ? 'accepted' : `${r.rejection.kind} ${r.rejection.message}`;
    };
    expect(message({ symbol: 5, action: 'buy' })).toBe('invalid symbol must be a string such as BTCUSDT');
    expect(message({ symbol: 'BTCUSDT', action: true })).toMatch(/^invalid action must be a string/);
    expect(message({ symbol: 'BTCUSDT', action: 'buy', price: '{{close}}' })).toBe(
      'invalid price must be a plain positive decimal',
    );
    expect(message({ symbol: 'BTCUSDT', action: 'buy', price: -1 })).toMatch(/^invalid price/);
    expect(message({ symbol: 'BTCUSDT', action: 'buy', price: 1e300 })).toMatch(/^invalid price/);
    expect(message({ symbol: 'BTCUSDT', action: 'buy', id: 1.5 })).toMatch(/^invalid id/);
    expect(message({ symbol: 'BTCUSDT', action: 'buy', id: 'x'.repeat(129) })).toMatch(/^invalid id/);
    expect(message({ symbol: 'BTCUSDT', action: 'buy', zone: 'a\u0000b' })).toBe(
      'invalid the alert contains a NUL character',
    );
    expect(message(`{"passphrase":"${SECRET}","symbol":"BTCUSDT","action":"buy","zone":"\\ud800"}`)).toBe(
      'invalid the alert contains invalid Unicode (a lone surrogate)',
    );
    expect(
      message(
        `{"passphrase":"${SECRET}","symbol":"BTCUSDT","action":"buy","x":${'['.repeat(40)}${']'.repeat(40)}}`,
      ),
    ).toMatch(/^invalid the alert is nested deeper/);
    // A proper surrogate pair (an emoji) is fine in a free field.
    expect(message({ symbol: 'BTCUSDT', action: 'buy', note: 'moon \u{1F680}' })).toBe('accepted');
  });

  // Protects: zone and grid reach logs, chat messages and the dashboard; before, any text up to 64 characters (a
  // newline, an escape sequence, markup, a right-to-left override) was taken.
  it('takes a zone and a grid reference of letters, digits, space and _ . : - only', () => {
    const message = (fields: Record<string, unknown>) => {
      const r = parse(body({ symbol: 'BTCUSDT', action: 'buy', ...fields }));
      return r.ok ? 'accepted' : `${r.rejection.kind} ${r.rejection.message}`;
    };
    expect(message({ zone: 'Support 2: 97,250' })).toBe(
      'invalid zone may only hold letters, digits, space and _ . : -',
    );
    for (const zone of ['support', 'S1 weekly', 'fib_0.618', 'BYBIT:BTCUSDT-15m'])
      expect(message({ zone })).toBe('accepted');
    for (const zone of ['a\nb', 'x\u001b[2J', '<b>', 'moon \u{1F680}', '\u202ebuy', 'a\tb', 'déjà'])
      expect(message({ zone })).toMatch(/^invalid zone may only hold/);
    expect(message({ grid: 'eth-range' })).toBe('accepted');
    expect(message({ grid: 'g4' })).toBe('accepted');
    for (const grid of ['eth/range', 'g4\r\n', '../g1', '\u200bg4'])
      expect(message({ grid })).toMatch(/^invalid grid may only hold/);
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
