import type { GridParams } from './params.js';
import type { GridPlan } from './plan.js';

export type Side = 'buy' | 'sell';
/** 'waiting': a grid with a trigger price that the price has not reached yet (nothing trades). */
export type GridStatus = 'created' | 'waiting' | 'running' | 'paused' | 'stopped';
export type StopReason = 'stop-loss' | 'take-profit' | 'manual' | 'kill' | 'rejected-start';

/** Base held by a cell, with the price it was bought at (a cell can hold several when a buy filled in parts). */
export interface BaseLot {
  readonly lots: number;
  /** Entry price in price units. */
  readonly entry: number;
}

export interface OpenOrder {
  readonly clientOrderId: string;
  readonly side: Side;
  /** Limit price in price units; null for a market order. */
  readonly price: number | null;
  readonly lots: number;
  readonly filledLots: number;
  /** Executions applied to this order: the idempotency keys of its fills. */
  readonly execIds: readonly string[];
  /** A cancel was sent; fills may still arrive until the exchange confirms. */
  readonly cancelling: boolean;
}

export interface Cell {
  /** What the cell holds when its current cycle is complete; 'quote' means it is (re)buying at its line. */
  readonly holds: 'quote' | 'base';
  /**
   * The quantity of this cycle's order, in lots: q for a buy; for a sell, the base the cell holds (q, or less when
   * the exchange took its buy fee in the base coin).
   */
  readonly cycleLots: number;
  /** Lots of the current side already filled in this cycle (partial fills). */
  readonly progressLots: number;
  readonly base: readonly BaseLot[];
  /** Orders placed for this cell so far: the cycle counter in its client order ids. */
  readonly seq: number;
  readonly order: OpenOrder | null;
  /** Waiting for the start buy to deliver its base. */
  readonly awaitingStart: boolean;
  /** Why its last order was refused, until a resume re-places it. */
  readonly rejected: string | null;
  /** The cell's own quantity per buy, in lots: q for the cells of the start, q' for a cell added by trailing up. */
  readonly qtyLots: number;
}

/**
 * A cell a trailing shift took out of the grid while the cancel of its buy was still unconfirmed. A fill that raced
 * the cancel is kept: the cell then sells what it bought one line up, as any cell would, and leaves once it has.
 */
export interface LeavingCell extends Cell {
  /** Its index among all the grid's cells (what its client order ids carry). */
  readonly index: number;
  /** Its buy and sell lines, in price units. */
  readonly buyLine: number;
  readonly sellLine: number;
}

/** Where a trailing grid trades now (docs/grid-rules.md, "Trailing up"). */
export interface TrailState {
  /** a: the window's lowest line index; `cells[c]` is the grid's cell a + c. */
  readonly offset: number;
  /** Lines a..a+N in price units. */
  readonly lines: readonly number[];
  /** Line a+N+1, where the next shift is due; null when no line past the window can be traded. */
  readonly next: number | null;
  readonly shifts: number;
  /** A shift was due and refused (the cap, the minimum quantity or order value): the grid trails no more. */
  readonly ended: boolean;
  readonly leaving: readonly LeavingCell[];
}

/** Exact running totals, as decimal strings. */
export interface Ledger {
  readonly quote: string;
  /** Base held by the cells, in whole lots (what the grid can sell). */
  readonly baseLots: number;
  /**
   * Base below one lot, left where the exchange took a buy fee in the base coin (Bybit spot): owned and counted in
   * equity, but not sellable until it adds up. dustCost is what it cost (its share of the buys, at their prices).
   */
  readonly dust: string;
  readonly dustCost: string;
  readonly fees: string;
  readonly gridProfit: string;
  readonly buys: number;
  readonly sells: number;
}

/**
 * A grid's whole engine state. It is stored as JSON with a schema version and parsed on load
 * (src/db/grid-state-schema.ts, which the build holds to this type): a change of shape here needs a new version
 * and an upgrade of the stored states there.
 */
export interface GridState {
  readonly gridId: string;
  readonly params: GridParams;
  readonly status: GridStatus;
  readonly stopReason: StopReason | null;
  readonly plan: GridPlan | null;
  readonly cells: readonly Cell[];
  /** The market buy at start and the market sell of a stop exit, when one is out. */
  readonly startOrder: OpenOrder | null;
  readonly exitOrder: OpenOrder | null;
  /** Market orders sent so far: their counters keep each client order id distinct and deterministic. */
  readonly startAttempts: number;
  readonly exitAttempts: number;
  /** Set by 'sell-base': everything the grid holds, now or later, is sold at market (absent in older states). */
  readonly sellingOff?: boolean;
  readonly ledger: Ledger;
  readonly lastPrice: number | null;
  /** Trailing up's window, from the start of a grid that trails; null for one that does not (or has not started). */
  readonly trail: TrailState | null;
}

export function createGridState(gridId: string, params: GridParams): GridState {
  return {
    gridId,
    params,
    status: 'created',
    stopReason: null,
    plan: null,
    cells: [],
    startOrder: null,
    exitOrder: null,
    startAttempts: 0,
    exitAttempts: 0,
    ledger: {
      quote: params.investment,
      baseLots: 0,
      dust: '0',
      dustCost: '0',
      fees: '0',
      gridProfit: '0',
      buys: 0,
      sells: 0,
    },
    lastPrice: null,
    trail: null,
  };
}

/** The lines the grid trades now: its window when it trails, else its plan's lines. */
export function currentLines(state: GridState): readonly number[] {
  return state.trail?.lines ?? state.plan?.lines ?? [];
}
