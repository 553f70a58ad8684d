import { describe, expect, it } from 'vitest';
import { parseAlert } from '../../../src/app/tradingview.js';
import { allowList, plainIp, RateLimiter, REJECTION_STATUS } from '../../../src/http/webhook.js';

const SECRET = 'correct horse';
const known = (s: string) => ['BTCUSDT', 'ETHUSDT'].includes(s);
const body = (fields: Record<string, unknown>) => JSON.stringify({ passphrase: SECRET, ...fields });

describe('webhook answers', () => {
  it("says each of the parser's refusals with its status: the passphrase's before the content's", () => {
    const answer = (b: string) => {
      const r = parseAlert(b, SECRET, known);
      return r.ok ? null : [REJECTION_STATUS[r.rejection.kind], r.rejection.kind];
    };
    expect(answer('{"symbol":"NOPE","action":"dance"}')).toEqual([401, 'unauthorized']);
    expect(answer('not json')).toEqual([400, 'malformed']);
    expect(answer('[1,2]')).toEqual([400, 'malformed']);
    expect(answer(body({ symbol: 5, action: 'buy' }))).toEqual([400, 'invalid']);
    expect(answer(body({ symbol: 'BTCUSDT', action: 'buy', zone: 'a\u0000b' }))).toEqual([400, 'invalid']);
    expect(answer(body({ symbol: 'BTCUSDT', action: 'flat' }))).toEqual([422, 'unknown-action']);
    expect(answer(body({ symbol: 'DOGEUSDT', action: 'buy' }))).toEqual([422, 'unknown-symbol']);
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
