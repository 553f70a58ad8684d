import type { Instrument } from '../engine/grid/params.js';

/** A spot market as the exchange lists it: its assets and the filters every order must meet. */
export interface MarketInstrument extends Instrument {
  readonly symbol: string;
  readonly baseAsset: string;
  readonly quoteAsset: string;
}

export type OrderSide = 'buy' | 'sell';
export type OrderType = 'limit' | 'market';
export type ExchangeOrderStatus = 'open' | 'filled' | 'cancelled' | 'rejected';

export interface PlaceOrderRequest {
  readonly symbol: string;
  /** Our deterministic id (Bybit's orderLinkId): placing the same id twice leaves one order. */
  readonly clientOrderId: string;
  readonly side: OrderSide;
  readonly type: OrderType;
  /** Exact decimal strings, already on the tick and the quantity step. */
  readonly price: string | null;
  readonly qty: string;
}

export type RejectReason =
  | 'insufficient-balance'
  | 'below-minimum'
  | 'off-tick'
  | 'off-step'
  | 'no-price'
  | 'unknown-symbol'
  | 'other';

/**
 * Why an exchange call failed, by what the caller must do about it (typed errors: style.md 7). `rejected`: the
 * exchange refused and nothing happened. `ambiguous`: no answer came (timeout, 5xx, connection lost), so the effect
 * may or may not have happened: an order's fate is looked up by its client order id before any retry; a read is simply
 * asked again. `rate-limited`: nothing happened; wait `retryAfterMs` and retry. `auth`: a human must fix something
 * (the key, the secret, the clock, a permission) before any call can succeed.
 *
 * There is no "unavailable, nothing happened" kind: an exchange that answers 5xx may have acted before answering
 * (Bybit does), so an outage is ambiguous to a write and a retry to a read either way.
 */
export type ExchangeFailure =
  | {
      readonly kind: 'rejected';
      readonly reason:
        | Exclude<RejectReason, 'no-price'>
        | 'duplicate-order'
        | 'unknown-order'
        | 'too-many-orders'
        | 'bad-request';
    }
  | { readonly kind: 'ambiguous'; readonly cause: 'timeout' | 'http-5xx' | 'connection' }
  | { readonly kind: 'rate-limited'; readonly retryAfterMs: number }
  | {
      readonly kind: 'auth';
      readonly reason: 'bad-key' | 'bad-signature' | 'clock-skew' | 'permission' | 'ip-banned';
    };

/**
 * A failure of an exchange call that the caller must handle (see ExchangeFailure). Each exchange throws its own
 * subclass (bybit/errors.ts: BybitError, which adds Bybit's retCode and HTTP status); code above the Exchange interface
 * knows only this class.
 */
export class ExchangeError extends Error {
  override readonly name: string = 'ExchangeError';
  constructor(
    readonly failure: ExchangeFailure,
    message: string,
    /** For `auth`: the one line that tells a human what to fix (the exchange knows its settings' names). */
    readonly advice: string | null = null,
  ) {
    super(message);
  }

  /** Worth asking again as it is: no answer came, or the exchange asked us to slow down. */
  get retryable(): boolean {
    return this.failure.kind === 'ambiguous' || this.failure.kind === 'rate-limited';
  }
}

export type PlaceOutcome =
  | { readonly kind: 'placed'; readonly exchangeOrderId: string }
  | {
      readonly kind: 'already-placed';
      readonly exchangeOrderId: string;
      readonly status: ExchangeOrderStatus;
    }
  | { readonly kind: 'rejected'; readonly reason: RejectReason; readonly message: string };

export type CancelOutcome =
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'not-open'; readonly status: Exclude<ExchangeOrderStatus, 'open'> }
  | { readonly kind: 'unknown' };

export interface ExchangeOrder {
  readonly clientOrderId: string;
  readonly exchangeOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly price: string | null;
  readonly qty: string;
  readonly filled: string;
  readonly status: ExchangeOrderStatus;
}

/** One fill as the exchange reports it; execId is the idempotency key of everything downstream. */
export interface Execution {
  readonly execId: string;
  /** The exchange's ordering of executions, usable as a cursor. */
  readonly cursor: string;
  readonly clientOrderId: string;
  readonly exchangeOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly price: string;
  readonly qty: string;
  readonly fee: string;
  readonly feeCurrency: string;
  readonly isMaker: boolean;
  readonly executedAt: Date;
}

export interface Balance {
  readonly asset: string;
  readonly total: string;
  readonly free: string;
}

export type ExecutionListener = (executions: readonly Execution[]) => Promise<void> | void;

/**
 * What the jobs need from an exchange. The paper exchange (paper/) and Bybit spot (bybit/) implement it, and
 * test/contract/exchange.contract.ts holds both to the same assertions; nothing above this interface knows which one
 * runs.
 *
 * Expected outcomes (a refused order, a cancel of an order that is gone) are values. A failure the caller must
 * handle is thrown as an ExchangeError; anything else thrown (the paper exchange's database, a bug) is treated like
 * an `ambiguous` one: nothing is assumed done, and orders are settled by their client order id.
 */
export interface Exchange {
  readonly name: string;
  /** The most orders the account may have open at once (Bybit spot: 500), or null for no limit. */
  readonly maxOpenOrders: number | null;
  instrument(symbol: string): MarketInstrument | undefined;
  placeOrder(request: PlaceOrderRequest): Promise<PlaceOutcome>;
  /**
   * Several orders at once, where the exchange has batches (Bybit: 10 per call); outcomes in the order asked. It may
   * throw like placeOrder; then the caller's orders stay 'placing' and the reconciler settles them by id.
   */
  placeOrders?(requests: readonly PlaceOrderRequest[]): Promise<PlaceOutcome[]>;
  cancelOrder(symbol: string, clientOrderId: string): Promise<CancelOutcome>;
  /** Cancels every open order of a symbol at once (the kill switch); returns how many the exchange cancelled. */
  cancelAll(symbol: string): Promise<number>;
  getOrder(clientOrderId: string): Promise<ExchangeOrder | null>;
  openOrders(symbol?: string): Promise<ExchangeOrder[]>;
  /**
   * Executions after a cursor (null: from the beginning), oldest first. Where the cursor is a time (Bybit: ms), the
   * executions of the cursor's own instant come back again; callers recognise them by execId.
   */
  executionsAfter(cursor: string | null, limit: number): Promise<Execution[]>;
  balances(): Promise<Balance[]>;
  /**
   * Pushes executions as they happen (a WebSocket on a real exchange); reconciliation catches what a push misses.
   * `first` puts a listener ahead of the others (a probe that must see the moment of the fill, as in the benchmarks).
   */
  onExecutions(listener: ExecutionListener, options?: { first?: boolean }): void;
}
