import type { OrderPurpose } from '../../engine/grid/events.js';

/** Where a grid order stands in the store; src/db/order-store.ts draws the machine and who moves it. */
export type OrderStatus = 'intent' | 'placing' | 'held' | 'placed' | 'filled' | 'cancelled' | 'rejected';

/** An order as the store keeps it for sending: what a placement, the pre-trade rules and the exchange read. */
export interface OrderToSend {
  readonly clientOrderId: string;
  readonly gridId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly type: 'limit' | 'market';
  readonly purpose: OrderPurpose;
  /** Decimal text as stored; null for a market order. */
  readonly price: string | null;
  readonly quantity: string;
}

/** A held order, with why it is held (`pre-trade <rule>: <message>`) and whether a cancel was asked meanwhile. */
export interface HeldOrder extends OrderToSend {
  readonly reason: string | null;
  readonly cancelRequested: boolean;
}

/**
 * The order state machine, one function per transition, each guarded by its from-status where the caller knows it.
 * The functions that answer a boolean say whether the transition applied: only the caller whose transition applied
 * acts on it (tells the engine, sends the order), which is what makes each effect happen once.
 */
export interface OrderStore {
  /** intent → placing, unless a cancel was asked. Returns the order when this caller claimed it. */
  claimIntent(clientOrderId: string): Promise<OrderToSend | null>;
  /**
   * held → placing for those of `clientOrderIds` whose grid runs and whose cancel was not asked, in one statement
   * (rows locked in id order). Returns the orders this caller claimed, with the reason they were held for.
   */
  claimHeld(clientOrderIds: readonly string[]): Promise<(OrderToSend & { reason: string | null })[]>;
  /** intent | placing → rejected: refused by a pre-trade rule that does not clear by itself, never sent. */
  rejectUnsent(clientOrderId: string, reason: string): Promise<boolean>;
  /**
   * intent | placing → held: refused by a rule that clears by itself. `ongoing`: the grid already had another order
   * held whose reason starts with `reasonPrefix` (the same rule), so the episode was announced before.
   */
  holdUnsent(
    clientOrderId: string,
    reason: string,
    reasonPrefix: string,
  ): Promise<{ held: boolean; ongoing: boolean }>;
  /** held → held: another rule holds it now; the store says which. */
  noteHeldReason(clientOrderId: string, reason: string): Promise<void>;
  /** intent | placing → cancelled with a reason (the kill switch): closed unsent, can no longer be claimed. */
  cancelUnsent(clientOrderId: string, reason: string): Promise<boolean>;
  /** any → rejected: the exchange refused this client order id, which is final whatever the store believed. */
  recordRefusal(clientOrderId: string, reason: string): Promise<void>;
  /** any → cancelled | rejected: the exchange knew the id already and had closed it. */
  recordClosedOnExchange(clientOrderId: string, status: 'cancelled' | 'rejected'): Promise<void>;
  /**
   * placing → placed with the exchange's order id; a row already moved on (filled, cancelled) keeps its status and
   * learns the id. Returns the row's status after and whether a cancel was asked while it was being placed.
   */
  recordAccepted(
    clientOrderId: string,
    exchangeOrderId: string,
  ): Promise<{ status: OrderStatus; cancelRequested: boolean } | null>;
  /**
   * Asks for a cancel: the flag on any row; intent | held → cancelled on the spot (never sent). Returns the row after,
   * or null for an unknown id.
   */
  requestCancel(
    clientOrderId: string,
  ): Promise<{ gridId: string; symbol: string; status: OrderStatus } | null>;
  /** placed → cancelled: the exchange confirmed the cancel, or closed the order without a fill. */
  cancelPlaced(clientOrderId: string): Promise<boolean>;
  /** placing → placed | cancelled, as the exchange reports the order a lost answer left unknown. */
  settlePlacement(
    clientOrderId: string,
    status: 'placed' | 'cancelled',
    exchangeOrderId: string,
  ): Promise<boolean>;
  /** placing → cancelled: a cancel was asked and the exchange never got the order. */
  abandonPlacement(clientOrderId: string): Promise<boolean>;
  /** placing → intent: the exchange never got the order; the next round sends it. */
  returnToIntent(clientOrderId: string): Promise<boolean>;

  /** The held orders of a symbol, except those of `exceptGrids`, oldest first. */
  heldOf(symbol: string, exceptGrids: readonly string[]): Promise<HeldOrder[]>;
  /** Intents nobody claimed for `olderThanMs` (and whose cancel was not asked), oldest first. */
  staleIntents(olderThanMs: number): Promise<string[]>;
  /** Placements unanswered for `olderThanMs`. */
  stalePlacements(
    olderThanMs: number,
  ): Promise<{ clientOrderId: string; gridId: string; cancelRequested: boolean }[]>;
  /** Placed orders whose cancel was asked `olderThanMs` ago or more and has not gone through. */
  staleCancels(olderThanMs: number): Promise<string[]>;
  /** Orders placed `olderThanMs` ago or more. */
  placedBefore(olderThanMs: number): Promise<{ clientOrderId: string; gridId: string }[]>;
  /** Those of `clientOrderIds` that the store believes are on the exchange or on their way (placing, placed). */
  sentAmong(clientOrderIds: readonly string[]): Promise<Set<string>>;
  /** Orders that count against the exchange's cap on open orders: not closed and not being cancelled. */
  openCount(): Promise<number>;
}
