import type { GridState } from '../../engine/grid/state.js';

/** A fill as the read model lists it; money as Postgres prints it (the view trims it). */
export interface TradeRecord {
  readonly id: string;
  readonly executedAt: Date;
  readonly gridId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly price: string;
  readonly quantity: string;
  readonly fee: string;
  readonly feeCurrency: string;
  /** Realized grid profit of the fill less its fee in quote. */
  readonly net: string;
  readonly execId: string;
  readonly exchangeOrderId: string | null;
  readonly clientOrderId: string;
}

export interface TradePageFilter {
  readonly symbol: string | null;
  /** Executed at or after. */
  readonly from: Date | null;
  /** Executed before. */
  readonly to: Date | null;
}

/** Where a page of fills starts: after this fill (its time as text to the microsecond, and its id). */
export interface TradeCursor {
  readonly at: string;
  readonly id: string;
}

/** One bucket of the P/L series. */
export interface PnlBucket {
  readonly timeMs: number;
  /** Realized less fees over all time up to the end of the bucket. */
  readonly cumulative: string;
  /** The equity the risk monitor last measured within the bucket, if it did (checks that measured nothing left out). */
  readonly equity: string | null;
}

/** A grid's figures over a period. */
export interface GridPeriodRecord {
  readonly id: string;
  readonly name: string;
  readonly symbol: string;
  readonly status: string;
  readonly baseQty: string;
  readonly baseCost: string;
  /** Realized less fees since the grid began. */
  readonly totalNet: string;
  readonly periodNet: string;
  readonly periodRealized: string;
  readonly periodFees: string;
  readonly fills: number;
}

export interface OpenOrderRecord {
  readonly gridId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly price: string | null;
  readonly quantity: string;
  readonly clientOrderId: string;
  /** The pre-trade rule holding it back; null for an order resting on the exchange. */
  readonly held: string | null;
}

export interface LadderGridRecord {
  readonly id: string;
  readonly symbol: string;
  readonly state: GridState;
  readonly stopLoss: string | null;
  readonly takeProfit: string | null;
}

/** The read model's queries: what the control surfaces show, from Postgres. */
export interface ViewStore {
  /** When the first fill was executed; null without fills. */
  firstTradeAt(): Promise<Date | null>;
  /** One bucket per `stepMs` from the bucket holding `from` to `to`, oldest first. */
  pnlBuckets(from: Date, to: Date, stepMs: number): Promise<PnlBucket[]>;
  /** Every grid with its fills executed within [from, to], oldest grid first. */
  gridPeriods(from: Date, to: Date): Promise<GridPeriodRecord[]>;
  /** The latest fills, newest first. */
  recentTrades(limit: number, symbol: string | null): Promise<TradeRecord[]>;
  /** The fills of the filter after `after`, oldest first, at most `limit`; each with its cursor. */
  tradePage(
    filter: TradePageFilter,
    after: TradeCursor | null,
    limit: number,
  ): Promise<(TradeRecord & { cursorAt: string })[]>;
  /** Orders resting on the exchange (no cancel asked) or held back, highest price first within a symbol. */
  openOrders(symbol: string | null): Promise<OpenOrderRecord[]>;
  ladderGrid(gridId: string): Promise<LadderGridRecord | null>;
}
