import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { MetricsFigures } from '../app/metrics-source.js';
import { JOB_STATES } from '../app/ports/metrics.js';
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

/** What the gauges read when scraped (src/app/metrics-source.ts). */
export type MetricsSources = MetricsFigures;

/** Latency quantiles are taken over the queue's most recent completed jobs (BullMQ keeps up to 2,000). */
const LATENCY_SAMPLE = 200;

/**
 * Prometheus metrics. Counters of this process (webhook outcomes) live here; everything else is read from Postgres,
 * Redis and BullMQ when scraped (the counts over whole tables at most every COUNTS_TTL_MS), so an api process reports
 * what the workers did. Prometheus carries floats: money is
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
        const queues = await sources.queueJobs();
        this.reset();
        for (const { queue, counts } of queues) {
          for (const state of JOB_STATES) this.set({ queue, state }, counts[state]);
        }
      },
    });
    new Gauge({
      name: 'gridops_job_latency_seconds',
      help: `From enqueue to completion, over each queue's last ${LATENCY_SAMPLE} completed jobs`,
      labelNames: ['queue', 'quantile'],
      registers,
      async collect() {
        const queues = await sources.queueLatenciesMs(LATENCY_SAMPLE);
        this.reset();
        for (const { queue, ms } of queues) {
          if (ms.length === 0) continue;
          for (const q of [0.5, 0.9, 0.99]) {
            const v = ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)]!;
            this.set({ queue, quantile: String(q) }, v / 1000);
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
        const rows = await sources.fills();
        this.reset();
        for (const r of rows) this.inc({ symbol: r.symbol, side: r.side }, r.n);
      },
    });
    const pnl = (name: string, help: string, figure: 'net' | 'fees') =>
      new Gauge({
        name,
        help,
        labelNames: ['grid', 'symbol'],
        registers,
        async collect() {
          const rows = await sources.gridMoney(figure);
          this.reset();
          for (const r of rows) this.set({ grid: r.id, symbol: r.symbol }, Number(r.v));
        },
      });
    pnl('gridops_realized_pnl_quote', 'Realized grid profit less fees, in quote', 'net');
    pnl('gridops_fees_quote', 'Fees paid, in quote', 'fees');
    new Gauge({
      name: 'gridops_grids',
      help: 'Grids by status',
      labelNames: ['status'],
      registers,
      async collect() {
        const rows = await sources.grids();
        this.reset();
        for (const s of ['created', 'waiting', 'running', 'paused', 'stopped']) this.set({ status: s }, 0);
        for (const r of rows) this.set({ status: r.status }, r.n);
      },
    });
    new Gauge({
      name: 'gridops_alerts',
      help: 'Recorded webhook alerts by state',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = await sources.alerts();
        this.set({ state: 'processed' }, counts.processed);
        this.set({ state: 'pending' }, counts.pending);
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
