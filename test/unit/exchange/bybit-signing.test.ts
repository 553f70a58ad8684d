import { describe, expect, it } from 'vitest';
import { explainAuthFailure, failureOfRetCode } from '../../../src/exchange/bybit/errors.js';
import { queryString, signRequest, signWebSocketAuth } from '../../../src/exchange/bybit/signing.js';

describe('Bybit v5 signing', () => {
  // Vectors from ../shared/docs/protocols.md 1.2 (computed there with Python's hmac and Node's crypto).
  it('signs a GET query string as Bybit does', () => {
    const payload = queryString({ category: 'spot', symbol: 'BTCUSDT', cursor: undefined });
    expect(payload).toBe('category=spot&symbol=BTCUSDT');
    expect(signRequest('test-secret', 1700000000000, 'test-key', 5000, payload)).toBe(
      '0048edf42c4979197cec265d4f090ffe6c30d7dec8782e4e6a26b51c2703cbf9',
    );
  });

  it('signs the private WebSocket auth as Bybit does', () => {
    expect(signWebSocketAuth('test-secret', 1700000005000)).toBe(
      '4343ac53a3dafc0ec96562c63a7899f56be48a0e2ab052e07ae410e8f5472338',
    );
  });

  it('encodes values the way the official SDK does (each value URI-encoded, insertion order)', () => {
    expect(queryString({ b: '1,2', a: 'x y', c: 3 })).toBe('b=1%2C2&a=x%20y&c=3');
  });
});

describe('Bybit failures', () => {
  it('maps the codes a spot grid meets, pairs meaning the same condition to one reason', () => {
    const now = 1_000_000;
    expect(failureOfRetCode(170141, null, now)).toEqual({ kind: 'rejected', reason: 'duplicate-order' });
    expect(failureOfRetCode(110072, null, now)).toEqual({ kind: 'rejected', reason: 'duplicate-order' });
    expect(failureOfRetCode(170131, null, now)).toEqual({ kind: 'rejected', reason: 'insufficient-balance' });
    expect(failureOfRetCode(110007, null, now)).toEqual({ kind: 'rejected', reason: 'insufficient-balance' });
    expect(failureOfRetCode(170213, null, now)).toEqual({ kind: 'rejected', reason: 'unknown-order' });
    expect(failureOfRetCode(170134, null, now)).toEqual({ kind: 'rejected', reason: 'off-tick' });
    expect(failureOfRetCode(170137, null, now)).toEqual({ kind: 'rejected', reason: 'off-step' });
    expect(failureOfRetCode(170140, null, now)).toEqual({ kind: 'rejected', reason: 'below-minimum' });
    expect(failureOfRetCode(10006, now + 400, now)).toEqual({ kind: 'rate-limited', retryAfterMs: 400 });
    expect(failureOfRetCode(10002, null, now)).toEqual({ kind: 'auth', reason: 'clock-skew' });
    expect(failureOfRetCode(10004, null, now)).toEqual({ kind: 'auth', reason: 'bad-signature' });
  });

  it('tells the user what to fix when the credentials or the clock are wrong', () => {
    expect(explainAuthFailure('clock-skew')).toMatch(
      /clock is off from Bybit's: sync it \(NTP\) or raise BYBIT_RECV_WINDOW/,
    );
    expect(explainAuthFailure('bad-signature')).toMatch(/check BYBIT_API_SECRET/);
  });
});
