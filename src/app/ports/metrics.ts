/** The states of a queue's jobs that /metrics reports. */
export const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** The counts /metrics reports from Postgres. */
export interface MetricsStore {
  /** Fills by symbol and side: a count over the whole trade table. */
  fillsBySide(): Promise<{ symbol: string; side: string; n: number }[]>;
  /** Recorded alerts by state: a count over the whole alert table. */
  alertsByState(): Promise<{ processed: number; pending: number }>;
  /** Grids by status (one row per grid in the table). */
  gridsByStatus(): Promise<{ status: string; n: number }[]>;
  /**
   * A money figure of each grid that is not stopped or has one (realized less fees, or fees), in quote, as Postgres
   * prints it.
   */
  gridMoney(figure: 'net' | 'fees'): Promise<{ id: string; symbol: string; v: string }[]>;
}

/** What the job queues hold, for /metrics. */
export interface QueueStats {
  /** Each queue's jobs by state. */
  jobCounts(): Promise<{ queue: string; counts: Record<JobState, number> }[]>;
  /** Each queue's latest `sample` completed jobs: from when each was due to when it finished, in ms. */
  latenciesMs(sample: number): Promise<{ queue: string; ms: number[] }[]>;
}
