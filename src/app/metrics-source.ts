import type { Clock } from './ports/core.js';
import type { JobState, MetricsStore, QueueStats } from './ports/metrics.js';
import type { RiskFigures } from './risk-monitor.js';

/**
 * How long the counts over whole tables (fills, alerts) are reused. Those tables only grow (a trade table of millions
 * of rows takes a scan of each to count), while their figures feed counters read through rate() over minutes, which
 * a figure this old does not change. Two scrapes at Prometheus' usual 15 s share a count, and any number of scrapers
 * (an HA pair, a dashboard querying directly) cost one count per window per process.
 */
export const COUNTS_TTL_MS = 30_000;

/** What /metrics reports, read when scraped. */
export interface MetricsFigures {
  queueJobs(): Promise<{ queue: string; counts: Record<JobState, number> }[]>;
  /** Each queue's latest `sample` completed jobs' latencies in ms, ascending. */
  queueLatenciesMs(sample: number): Promise<{ queue: string; ms: number[] }[]>;
  /** Fills by symbol and side; up to COUNTS_TTL_MS old. */
  fills(): Promise<{ symbol: string; side: string; n: number }[]>;
  /** Recorded alerts by state; up to COUNTS_TTL_MS old. */
  alerts(): Promise<{ processed: number; pending: number }>;
  /** Grids by status, exact. */
  grids(): Promise<{ status: string; n: number }[]>;
  /** A money figure per grid, exact. */
  gridMoney(figure: 'net' | 'fees'): Promise<{ id: string; symbol: string; v: string }[]>;
  isKilled(): Promise<boolean>;
  latestRisk(): Promise<RiskFigures | null>;
}

/**
 * The figures /metrics reports. What an operator acts on is read on every scrape: grids by status and their P/L come
 * from the grid table (one row per grid), the kill switch and risk figures from their own stores. The counts over
 * tables that grow without bound are kept for COUNTS_TTL_MS, and concurrent scrapes share one count in flight.
 */
export class MetricsSource implements MetricsFigures {
  private readonly fillCounts: Cached<{ symbol: string; side: string; n: number }[]>;
  private readonly alertCounts: Cached<{ processed: number; pending: number }>;

  constructor(
    private readonly deps: {
      store: MetricsStore;
      queues: QueueStats;
      killSwitch: { isKilled(): Promise<boolean> };
      monitor: { latest(): Promise<RiskFigures | null> };
      clock: Clock;
      countsTtlMs?: number;
    },
  ) {
    const ttl = deps.countsTtlMs ?? COUNTS_TTL_MS;
    this.fillCounts = new Cached(() => deps.store.fillsBySide(), ttl, deps.clock);
    this.alertCounts = new Cached(() => deps.store.alertsByState(), ttl, deps.clock);
  }

  queueJobs(): Promise<{ queue: string; counts: Record<JobState, number> }[]> {
    return this.deps.queues.jobCounts();
  }

  async queueLatenciesMs(sample: number): Promise<{ queue: string; ms: number[] }[]> {
    return (await this.deps.queues.latenciesMs(sample)).map((q) => ({
      queue: q.queue,
      ms: [...q.ms].sort((a, b) => a - b),
    }));
  }

  fills(): Promise<{ symbol: string; side: string; n: number }[]> {
    return this.fillCounts.get();
  }

  alerts(): Promise<{ processed: number; pending: number }> {
    return this.alertCounts.get();
  }

  grids(): Promise<{ status: string; n: number }[]> {
    return this.deps.store.gridsByStatus();
  }

  gridMoney(figure: 'net' | 'fees'): Promise<{ id: string; symbol: string; v: string }[]> {
    return this.deps.store.gridMoney(figure);
  }

  isKilled(): Promise<boolean> {
    return this.deps.killSwitch.isKilled();
  }

  latestRisk(): Promise<RiskFigures | null> {
    return this.deps.monitor.latest();
  }
}

/** A value loaded at most once per window; callers within the window (or while it loads) share it. */
class Cached<T> {
  private entry: { readonly atMs: number; readonly value: Promise<T> } | null = null;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  get(): Promise<T> {
    const now = this.clock.nowMs();
    if (this.entry && now - this.entry.atMs < this.ttlMs) return this.entry.value;
    const entry = { atMs: now, value: this.load() };
    this.entry = entry;
    // A failed load is not kept: the next scrape asks again.
    entry.value.catch(() => {
      if (this.entry === entry) this.entry = null;
    });
    return entry.value;
  }
}
