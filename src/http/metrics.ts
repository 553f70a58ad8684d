import type { Queue } from 'bullmq';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { RiskFigures } from '../app/risk-monitor.js';

export type WebhookOutcome =
  | 'accepted'
  | 'duplicate'
  | 'malformed'
  | 'invalid'
  | 'unauthorized'
  | 'unknown-action'
  | 'unknown-symbol'
  | 'too-large'
  | 'unsupported-type'
  | 'rate-limited'
  | 'forbidden-source'
  | 'disabled'
  | 'error';

export interface MetricsSources {
  readonly ds: DataSource;
  readonly queues: Readonly<Record<string, Queue>>;
  readonly isKilled: () => Promise<boolean>;
  readonly latestRisk: () => Promise<RiskFigures | null>;
}

const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;
/** Latency quantiles are taken over the queue's most recent completed jobs (BullMQ keeps up to 2,000). */
const LATENCY_SAMPLE = 200;

/**
 * Prometheus metrics. Counters of this process (webhook outcomes) live here; everything else is read from Postgres,
 * Redis and BullMQ when scraped, so an api process reports what the workers did. Prometheus carries floats: money is
 * converted only here, for graphs, never for anything computed.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly webhook: Counter<'outcome'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'gridops_process_' });
    this.webhook = new Counter({
      name: 'gridops_webhook_requests_total',
      help: 'TradingView webhook requests by outcome',
      labelNames: ['outcome'],
      registers,
    });
    new Gauge({
      name: 'gridops_queue_jobs',
      help: 'BullMQ jobs by queue and state',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const [name, queue] of Object.entries(sources.queues)) {
          const counts = await queue.getJobCounts(...JOB_STATES);
          for (const state of JOB_STATES) this.set({ queue: name, state }, counts[state] ?? 0);
        }
      },
    });
    new Gauge({
      name: 'gridops_job_latency_seconds',
      help: `From enqueue to completion, over each queue's last ${LATENCY_SAMPLE} completed jobs`,
      labelNames: ['queue', 'quantile'],
      registers,
      async collect() {
        this.reset();
        for (const [name, queue] of Object.entries(sources.queues)) {
          const jobs = await queue.getCompleted(0, LATENCY_SAMPLE - 1);
          const ms = jobs
            .filter((j) => j.finishedOn !== undefined)
            // A delayed or scheduled job is late from when it was due, not from when it was created.
            .map((j) => j.finishedOn! - j.timestamp - (j.delay ?? 0))
            .sort((a, b) => a - b);
          if (ms.length === 0) continue;
          for (const q of [0.5, 0.9, 0.99]) {
            const v = ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)]!;
            this.set({ queue: name, quantile: String(q) }, v / 1000);
          }
        }
      },
    });
    new Counter({
      name: 'gridops_fills_total',
      help: 'Fills recorded, by symbol and side',
      labelNames: ['symbol', 'side'],
      registers,
      async collect() {
        const rows = (await sources.ds.query(
          `SELECT symbol, side, count(*)::int AS n FROM trade GROUP BY symbol, side`,
        )) as { symbol: string; side: string; n: number }[];
        this.reset();
        for (const r of rows) this.inc({ symbol: r.symbol, side: r.side }, r.n);
      },
    });
    const pnl = (name: string, help: string, column: string) =>
      new Gauge({
        name,
        help,
        labelNames: ['grid', 'symbol'],
        registers,
        async collect() {
          const rows = (await sources.ds.query(
            `SELECT id, symbol, (${column})::text AS v FROM grid WHERE status <> 'stopped' OR ${column} <> 0`,
          )) as { id: string; symbol: string; v: string }[];
          this.reset();
          for (const r of rows) this.set({ grid: r.id, symbol: r.symbol }, Number(r.v));
        },
      });
    pnl('gridops_realized_pnl_quote', 'Realized grid profit less fees, in quote', 'realized_pnl - fees');
    pnl('gridops_fees_quote', 'Fees paid, in quote', 'fees');
    new Gauge({
      name: 'gridops_grids',
      help: 'Grids by status',
      labelNames: ['status'],
      registers,
      async collect() {
        const rows = (await sources.ds.query(
          `SELECT status, count(*)::int AS n FROM grid GROUP BY status`,
        )) as { status: string; n: number }[];
        this.reset();
        for (const s of ['created', 'running', 'paused', 'stopped']) this.set({ status: s }, 0);
        for (const r of rows) this.set({ status: r.status }, r.n);
      },
    });
    new Gauge({
      name: 'gridops_alerts',
      help: 'Recorded webhook alerts by state',
      labelNames: ['state'],
      registers,
      async collect() {
        const [row] = (await sources.ds.query(
          `SELECT count(*) FILTER (WHERE processed)::int AS processed,
                  count(*) FILTER (WHERE NOT processed)::int AS pending FROM alert`,
        )) as { processed: number; pending: number }[];
        this.set({ state: 'processed' }, row?.processed ?? 0);
        this.set({ state: 'pending' }, row?.pending ?? 0);
      },
    });
    new Gauge({
      name: 'gridops_kill_switch',
      help: '1 while the kill switch is on',
      registers,
      async collect() {
        this.set((await sources.isKilled()) ? 1 : 0);
      },
    });
    const risk = (name: string, help: string, pick: (f: RiskFigures) => string) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const latest = await sources.latestRisk();
          this.reset();
          if (latest) this.set(Number(pick(latest)));
        },
      });
    risk(
      'gridops_exchange_error_rate_pct',
      'Failed exchange calls in the window, percent',
      (f) => f.errorRatePct,
    );
    risk('gridops_drawdown_pct', 'Drawdown of equity from its peak, percent', (f) => f.drawdownPct);
    risk('gridops_equity_quote', 'Equity of the whole book (quote plus base at market)', (f) => f.equity);
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
