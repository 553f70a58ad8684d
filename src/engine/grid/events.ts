import type { Side } from './state.js';

/** What can happen to a grid. Prices are in price units, quantities in lots (see money.ts). */
export type GridEvent =
  | { readonly kind: 'start'; readonly price: number }
  | { readonly kind: 'price'; readonly price: number }
  | {
      readonly kind: 'fill';
      readonly clientOrderId: string;
      /** The exchange's execution id: applying the same one twice changes nothing. */
      readonly execId: string;
      readonly price: number;
      readonly lots: number;
      /** The fee as the exchange charged it; when absent the grid's fee rate is applied to the notional, in quote. */
      readonly fee?: string | undefined;
      /** The coin the fee was taken in: quote (default), or base (Bybit takes spot buy fees in the base coin). */
      readonly feeCurrency?: 'quote' | 'base' | undefined;
      /** When the exchange executed it: carried for the record, never read by the engine. */
      readonly executedAtMs?: number | undefined;
      /** The exchange's id of the order that filled: carried for the record, never read by the engine. */
      readonly orderId?: string | undefined;
    }
  | { readonly kind: 'cancelled'; readonly clientOrderId: string }
  | { readonly kind: 'rejected'; readonly clientOrderId: string; readonly reason: string }
  | { readonly kind: 'pause' }
  | { readonly kind: 'resume' }
  /** A stop by a person ('manual', the default) or by the kill switch ('kill'); open orders are cancelled. */
  | { readonly kind: 'stop'; readonly by?: 'manual' | 'kill' | undefined }
  /**
   * Sells at market what a stopped grid holds (the kill switch's optional exit, sent once its cancels are
   * confirmed so that no base is still locked in open sells). Base that arrives later is sold too.
   */
  | { readonly kind: 'sell-base' };

export type OrderPurpose = 'grid' | 'start' | 'exit';

export type GridCommand =
  | {
      readonly kind: 'place';
      readonly clientOrderId: string;
      readonly side: Side;
      readonly type: 'limit' | 'market';
      /** Price units; null for a market order. */
      readonly price: number | null;
      readonly lots: number;
      /** Exact decimal strings of the same, ready for an exchange. */
      readonly priceText: string | null;
      readonly qtyText: string;
      readonly purpose: OrderPurpose;
      readonly cell: number | null;
    }
  | { readonly kind: 'cancel'; readonly clientOrderId: string };

export type GridNote =
  | { readonly kind: 'started'; readonly gapLine: number; readonly qtyPerGrid: string }
  /** A grid with a trigger price waits for it (said once, at its start). */
  | { readonly kind: 'waiting'; readonly trigger: string }
  /** The price reached the trigger: the grid starts at it ('started' follows). */
  | { readonly kind: 'triggered'; readonly price: string }
  /**
   * Trailing up moved the grid one line up: cell `left` left it and the new top cell `cell` buys `qty` at its line.
   * `lower` and `upper` are the window's lines after the shift.
   */
  | {
      readonly kind: 'trailing-shift';
      readonly left: number;
      readonly cell: number;
      readonly qty: string;
      readonly lower: string;
      readonly upper: string;
      readonly shifts: number;
    }
  /** A shift was due and refused: the grid trails no more (said once). */
  | {
      readonly kind: 'trailing-ended';
      readonly reason: 'cap' | 'min-qty' | 'min-value' | 'range';
      readonly message: string;
    }
  | { readonly kind: 'invalid'; readonly message: string }
  | { readonly kind: 'duplicate-fill'; readonly execId: string }
  | { readonly kind: 'unknown-order'; readonly clientOrderId: string }
  | { readonly kind: 'overfill'; readonly clientOrderId: string; readonly execId: string }
  | { readonly kind: 'order-rejected'; readonly clientOrderId: string; readonly reason: string }
  | { readonly kind: 'cycle-complete'; readonly cell: number; readonly profit: string }
  | { readonly kind: 'stopped'; readonly reason: string }
  | { readonly kind: 'ignored'; readonly event: GridEvent['kind']; readonly because: string };
