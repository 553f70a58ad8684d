import { ExchangeError, type ExchangeFailure } from '../exchange.js';

/**
 * What a failed Bybit call means for the caller: the exchange-neutral failure kinds (exchange.ts), into which Bybit's
 * retCodes and HTTP statuses are mapped here, at the only code that sees them.
 */
export type BybitFailure = ExchangeFailure;

/** An ExchangeError that also keeps what Bybit said: its retCode and the HTTP status, for logs and tests. */
export class BybitError extends ExchangeError {
  override readonly name = 'BybitError';
  constructor(
    failure: BybitFailure,
    message: string,
    readonly retCode: number | null = null,
    readonly httpStatus: number | null = null,
  ) {
    super(failure, message, failure.kind === 'auth' ? explainAuthFailure(failure.reason) : null);
  }
}

/** Bybit retCodes a spot grid meets (protocols.md 1.4); pairs that mean the same condition map to one reason. */
export function failureOfRetCode(retCode: number, resetAtMs: number | null, nowMs: number): BybitFailure {
  switch (retCode) {
    case 10002:
      return { kind: 'auth', reason: 'clock-skew' };
    case 10003:
      return { kind: 'auth', reason: 'bad-key' };
    case 10004:
      return { kind: 'auth', reason: 'bad-signature' };
    case 10005:
    case 10010:
      return { kind: 'auth', reason: 'permission' };
    case 10006:
    case 170005:
    case 170222:
      return { kind: 'rate-limited', retryAfterMs: Math.max(100, (resetAtMs ?? nowMs + 1000) - nowMs) };
    case 110007:
    case 110012:
    case 170131:
      return { kind: 'rejected', reason: 'insufficient-balance' };
    case 110094:
    case 170136:
    case 170140:
      return { kind: 'rejected', reason: 'below-minimum' };
    case 170134:
      return { kind: 'rejected', reason: 'off-tick' };
    case 170137:
      return { kind: 'rejected', reason: 'off-step' };
    case 110072:
    case 170141:
      return { kind: 'rejected', reason: 'duplicate-order' };
    case 110001:
    case 110008:
    case 170142:
    case 170139:
    case 170213:
      return { kind: 'rejected', reason: 'unknown-order' };
    case 170121:
      return { kind: 'rejected', reason: 'unknown-symbol' };
    case 170810:
      return { kind: 'rejected', reason: 'too-many-orders' };
    case 10001:
    case 170105:
    case 170130:
      return { kind: 'rejected', reason: 'bad-request' };
    case 10016:
      return { kind: 'ambiguous', cause: 'http-5xx' };
    default:
      return { kind: 'rejected', reason: 'other' };
  }
}

/** The one line a user needs when the exchange refuses the credentials or the clock. */
export function explainAuthFailure(reason: Extract<BybitFailure, { kind: 'auth' }>['reason']): string {
  switch (reason) {
    case 'bad-key':
      return 'Bybit does not know this API key (or it belongs to another environment: mainnet, testnet or demo): check BYBIT_API_KEY and TRADING_MODE';
    case 'bad-signature':
      return 'Bybit rejected the request signature: check BYBIT_API_SECRET';
    case 'clock-skew':
      return "this machine's clock is off from Bybit's: sync it (NTP) or raise BYBIT_RECV_WINDOW";
    case 'permission':
      return 'the API key lacks a permission (spot trading) or is bound to other IP addresses';
    case 'ip-banned':
      return 'Bybit blocked this IP for too many requests: the ban lifts by itself after about 10 minutes';
  }
}
