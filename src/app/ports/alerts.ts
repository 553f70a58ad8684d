import type { GridStatus } from '../../engine/grid/state.js';

/** Alerts applied between two writes of their outcomes: a chunk shorter than this is a symbol set's last. */
export const ALERT_CHUNK = 500;

/** An alert as the webhook recorded it, to be written. */
export interface AlertToRecord {
  readonly externalId: string | null;
  readonly symbol: string;
  readonly action: string;
  readonly payload: Record<string, unknown>;
  readonly sender: string | null;
}

/** What became of the `n`th (1-based) alert of a batch: its id, and whether it was new (not a resent id). */
export interface RecordedAlert {
  readonly n: number;
  readonly id: string;
  readonly inserted: boolean;
}

export interface PendingAlert {
  readonly id: string;
  readonly symbol: string;
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

/** An active grid of a symbol whose alerts are being applied. */
export interface AlertGrid {
  readonly id: string;
  readonly name: string;
  readonly symbol: string;
  readonly status: GridStatus;
}

export interface AlertOutcome {
  readonly id: string;
  readonly outcome: string;
}

/**
 * A set of symbols whose alerts this holder alone applies (the Postgres advisory locks per symbol, all held by one
 * pooled connection). Every statement runs on that connection.
 */
export interface LockedSymbols {
  /** The next (at most ALERT_CHUNK) pending alerts of the symbols, oldest first, with the symbols' active grids. */
  nextChunk(): Promise<{ alerts: PendingAlert[]; grids: AlertGrid[] }>;
  /**
   * Marks the alerts processed with their outcomes; `release` lets the locks go in the same statement (the last
   * chunk), saving a round trip.
   */
  mark(outcomes: readonly AlertOutcome[], release: boolean): Promise<void>;
}

/** A recorded alert as the API lists it. */
export interface AlertRecord {
  readonly id: string;
  readonly source: string;
  readonly externalId: string | null;
  readonly symbol: string | null;
  readonly type: string;
  readonly payload: Record<string, unknown> | null;
  readonly sender: string | null;
  readonly processed: boolean;
  readonly outcome: string | null;
  readonly createdAt: Date;
  readonly processedAt: Date | null;
}

export interface AlertStore {
  /** Records a batch in one statement; a resent id (the source's unique key) is not inserted again. */
  record(alerts: readonly AlertToRecord[]): Promise<RecordedAlert[]>;
  /** The id recorded under a TradingView id; '' when none. */
  idOf(externalId: string | null): Promise<string>;
  /** The symbols with pending alerts. */
  pendingSymbols(): Promise<string[]>;
  /** The symbols of pending alerts recorded over `olderThanMs` ago. */
  staleSymbols(olderThanMs: number): Promise<string[]>;
  /**
   * Runs `work` holding the per-symbol locks of `symbols` (sorted by the caller, so that overlapping holders take them
   * in one order) on one pooled connection, whatever their number: no pool size can deadlock a holder. The locks go
   * with the connection, released whatever happened.
   */
  withSymbolsLocked<T>(symbols: readonly string[], work: (locked: LockedSymbols) => Promise<T>): Promise<T>;
  /** The active (not stopped) grids of the symbols, oldest first. */
  activeGrids(symbols: readonly string[]): Promise<AlertGrid[]>;
  /** The latest alerts, newest first. */
  recent(limit: number): Promise<AlertRecord[]>;
}
