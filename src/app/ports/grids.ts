import type { GridCommand } from '../../engine/grid/events.js';
import type { GridMode } from '../../engine/grid/params.js';
import type { GridState, GridStatus } from '../../engine/grid/state.js';
import type { Tx } from './tx.js';

/** A grid's engine state and version, as one event is applied to it. */
export interface LoadedGrid {
  readonly id: string;
  readonly symbol: string;
  readonly state: GridState;
  readonly version: number;
  /** The execution of the event being applied is already a trade (a redelivered fill). */
  readonly executionRecorded: boolean;
}

/** The trade a fill writes with its step. */
export interface TradeRecord {
  readonly execId: string;
  readonly clientOrderId: string;
  /**
   * The exchange's id of the order, as the execution reported it; when it did not, the order's own record supplies
   * it (null if that never learned it either).
   */
  readonly exchangeOrderId: string | null;
  readonly side: 'buy' | 'sell';
  readonly purpose: string;
  readonly price: string;
  readonly quantity: string;
  readonly fee: string;
  readonly feeCurrency: string;
  /** The fee valued in quote, as the ledger counts it (net P/L = realized − feeQuote). */
  readonly feeQuote: string;
  readonly realizedPnl: string;
  readonly executedAt: Date;
  /** The fill completed its order. */
  readonly orderDone: boolean;
}

export type CommitOutcome = 'committed' | 'stale' | 'duplicate-fill';

/** A grid's row: its settings and the figures its commits keep (decimal strings as stored). */
export interface GridRecord {
  readonly id: string;
  readonly name: string;
  readonly symbol: string;
  readonly status: GridStatus;
  readonly stopReason: string | null;
  readonly mode: GridMode;
  readonly lower: string;
  readonly upper: string;
  readonly grids: number;
  readonly investment: string;
  readonly stopLoss: string | null;
  readonly takeProfit: string | null;
  readonly demo: boolean;
  readonly baseQty: string;
  readonly baseCost: string;
  readonly quoteBalance: string;
  readonly realizedPnl: string;
  readonly fees: string;
  /** Orders of the grid not closed and not being cancelled. */
  readonly openOrders: number;
  readonly createdAt: Date;
}

/** A grid as created: 'created', holding its investment in quote, with the engine's initial state. */
export interface NewGrid {
  readonly id: string;
  readonly name: string;
  readonly symbol: string;
  readonly lower: string;
  readonly upper: string;
  readonly grids: number;
  readonly mode: GridMode;
  readonly investment: string;
  readonly stopLoss: string | null;
  readonly takeProfit: string | null;
  readonly makerFee: string;
  readonly takerFee: string;
  readonly demo: boolean;
  /** Which surface made it (cli, api, chat, config, demo). */
  readonly source: string;
  readonly state: GridState;
}

export interface GridStore {
  /** The grid's state (parsed, upgraded from older schema versions) and version, and whether `execId` is a trade. */
  load(gridId: string, execId: string | null): Promise<LoadedGrid | null>;
  /**
   * Writes one engine step as a single statement: the new state if the version is still the loaded one, the trade,
   * the order it completed, the orders the step places (already claimed, 'placing') and the cancels it asks.
   */
  commitStep(
    grid: LoadedGrid,
    state: GridState,
    commands: readonly GridCommand[],
    trade: TradeRecord | null,
  ): Promise<CommitOutcome>;

  /** Every grid, oldest first. */
  list(): Promise<GridRecord[]>;
  /** The grids a reference may mean: its id, its name, or the grids of a symbol not stopped; exact matches first. */
  matching(ref: string): Promise<GridRecord[]>;
  /** A new grid id (g<n>) from the database's sequence. */
  nextId(): Promise<string>;
  /**
   * Serializes grid creations until `tx` ends, so that two at once cannot both pass the total investment cap.
   */
  lockCreation(tx: Tx): Promise<void>;
  /** Symbol and investment of every grid not stopped, but `except`: what the total investment cap adds up. */
  activeInvestments(except: string | null, tx?: Tx): Promise<{ symbol: string; investment: string }[]>;
  /** Throws GridNameTaken when another grid has the name (the transaction is then spoilt: let it roll back). */
  insert(grid: NewGrid, tx?: Tx): Promise<void>;
  count(): Promise<number>;
  /** The quantity step a started grid trades in (from its plan), or null before it starts or for an unknown grid. */
  qtyStep(gridId: string): Promise<string | null>;
  /**
   * What a price of `symbol` sets off: the grids (running or paused) whose stop-loss or take-profit it reaches, the
   * grids waiting for a trigger price it may reach, and the trailing grids whose next shift it may set off, in id
   * order; and whether the symbol has held orders to judge again. One round trip.
   */
  priceTriggers(symbol: string, price: string): Promise<{ triggered: string[]; held: boolean }>;
}

/** A grid's name is unique: another grid has this one. */
export class GridNameTaken extends Error {
  override readonly name = 'GridNameTaken';

  constructor(readonly gridName: string) {
    super(`a grid named ${gridName} exists already`);
  }
}
