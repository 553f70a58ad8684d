import { describe, expect, it } from 'vitest';
import { BOARD_COOKIE, BOARD_SESSION_MS, FailureLimiter, TokenAuth } from '../../../src/http/auth.js';

const TOKEN = 'operator-token-for-unit-tests-0123';

describe('failed authentication per address', () => {
  // Protects: guessing tokens at full speed. Before: no limit at all.
  it('blocks an address at the limit until its window ends; other addresses are not affected', () => {
    let now = 1_000_000;
    const limiter = new FailureLimiter(3, 60_000, () => now);
    for (let i = 0; i < 2; i++) limiter.fail('203.0.113.7');
    expect(limiter.blockedFor('203.0.113.7')).toBe(0);
    limiter.fail('203.0.113.7');
    expect(limiter.blockedFor('203.0.113.7')).toBe(60_000);
    expect(limiter.blockedFor('203.0.113.8')).toBe(0);
    now += 59_000;
    expect(limiter.blockedFor('203.0.113.7')).toBe(1_000);
    now += 1_000;
    expect(limiter.blockedFor('203.0.113.7')).toBe(0);
    // A new window: three more failures to be blocked again.
    limiter.fail('203.0.113.7');
    expect(limiter.blockedFor('203.0.113.7')).toBe(0);
  });

  // Protects: memory, against failures from ever new addresses.
  it('keeps at most its size of addresses, ended windows first, then the oldest', () => {
    let now = 0;
    const limiter = new FailureLimiter(1, 1_000, () => now, 100);
    for (let i = 0; i < 100; i++) limiter.fail(`10.0.0.${i}`);
    now = 2_000;
    for (let i = 0; i < 150; i++) limiter.fail(`10.0.1.${i}`);
    expect(limiter.size).toBe(100);
    // The newest are kept (and blocked), the oldest went.
    expect(limiter.blockedFor('10.0.1.149')).toBeGreaterThan(0);
    expect(limiter.blockedFor('10.0.1.0')).toBe(0);
  });
});

describe('queue board session', () => {
  // Protects: a board cookie valid forever (it was a fixed HMAC of the token). Now it holds its issue time.
  it('lasts 12 hours from its issue, and a changed time or a changed token voids it', () => {
    let now = 1_800_000_000_000;
    const auth = new TokenAuth(TOKEN, undefined, () => now);
    const cookie = auth.boardCookie(false);
    expect(cookie).toMatch(/; Max-Age=43200/);
    const value = cookie.split(';')[0]!;
    expect(value.startsWith(`${BOARD_COOKIE}=${now}.`)).toBe(true);
    expect(auth.hasBoardSession(value)).toBe(true);
    expect(auth.hasBoardSession(`other=1; ${value}`)).toBe(true);
    now += BOARD_SESSION_MS - 1;
    expect(auth.hasBoardSession(value)).toBe(true);
    now += 1;
    expect(auth.hasBoardSession(value)).toBe(false);
    // Moving the issue time forward does not renew it: the HMAC covers the time.
    const [, mac] = value.split('.');
    expect(auth.hasBoardSession(`${BOARD_COOKIE}=${now}.${mac}`)).toBe(false);
    expect(
      new TokenAuth(`${TOKEN}x`, undefined, () => now).hasBoardSession(
        `${BOARD_COOKIE}=${auth.boardCookieValue(now)}`,
      ),
    ).toBe(false);
    expect(auth.clearBoardCookie(true)).toMatch(/^gridops_board=; Path=\/queues; .*Max-Age=0; Secure$/);
  });
});
