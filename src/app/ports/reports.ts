/** One grid's figures over a report's days: exact decimal strings, as Postgres sums them. */
export interface GridPeriod {
  readonly id: string;
  readonly symbol: string;
  readonly status: string;
  /** Realized grid profit since the grid began (before fees). */
  readonly totalRealized: string;
  readonly totalFees: string;
  /** Realized grid profit of the fills within the days, and their fees in quote. */
  readonly periodRealized: string;
  readonly periodFees: string;
  readonly fills: number;
}

/** What the reports read from the store (src/db/report-store.ts). */
export interface ReportStore {
  /** Every grid, by id, with its fills of the `days` UTC days ending with `day` (YYYY-MM-DD). */
  gridPeriods(day: string, days: number): Promise<GridPeriod[]>;
  /** Every symbol a grid trades or traded, sorted. */
  gridSymbols(): Promise<string[]>;
}
