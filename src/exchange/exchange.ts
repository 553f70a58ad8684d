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
 * What the jobs need from an exchange. The paper exchange and (later) Bybit implement it; nothing above this
 * interface knows which one runs.
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
  /** Executions after a cursor (null: from the beginning), oldest first. */
  executionsAfter(cursor: string | null, limit: number): Promise<Execution[]>;
  balances(): Promise<Balance[]>;
  /**
   * Pushes executions as they happen (a WebSocket on a real exchange); reconciliation catches what a push misses.
   * `first` puts a listener ahead of the others (a probe that must see the moment of the fill, as in the benchmarks).
   */
  onExecutions(listener: ExecutionListener, options?: { first?: boolean }): void;
}
