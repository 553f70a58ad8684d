import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { AlertIntake } from '../app/alerts.js';
import { Deliveries } from '../app/deliveries.js';
import { MetricsSource } from '../app/metrics-source.js';
import { systemClock } from '../app/ports/core.js';
import { ReadinessView } from '../app/readiness.js';
import { PgAlertStore } from '../db/alert-store.js';
import { PgAuditLog } from '../db/audit-store.js';
import { PgMetricsStore } from '../db/metrics-store.js';
import { PgNotificationFailures } from '../db/notification-store.js';
import { PgPing, RedisReadinessRecords } from '../db/readiness-store.js';
import { RedisAlertBodies } from '../db/tradingview-store.js';
import { buildHttpServer, type HttpServices } from '../http/server.js';
import { alertQueue } from '../jobs/alert-queue.js';
import { BullDeliveryQueue } from '../jobs/delivery-queue.js';
import { BullQueueStats } from '../jobs/queue-stats.js';
import { QUEUES } from '../jobs/queues.js';
import type { App, Role } from './app.js';

/** What HTTP may use of the app: services and settings, never a connection or a queue it could add to. */
export function httpServices(app: App): HttpServices {
  const { config, log } = app;
  return {
    config,
    log,
    api: {
      reports: app.reports,
      grids: app.grids,
      risk: app.risk,
      views: app.views,
      prices: app.prices,
      market: app.market,
      deliveries: deliveries(app),
    },
    readiness: new ReadinessView({
      records: new RedisReadinessRecords(app.redis, config.QUEUE_PREFIX),
      postgres: new PgPing(app.ds),
      log,
    }),
    metrics: new MetricsSource({
      store: new PgMetricsStore(app.ds),
      queues: new BullQueueStats(app.queues),
      killSwitch: app.risk,
      monitor: app.monitor,
      clock: systemClock,
    }),
    intake: new AlertIntake({
      store: new PgAlertStore(app.ds),
      queue: alertQueue(app.queues[QUEUES.alerts]),
      log,
      applyDelayMs: config.TV_APPLY_DELAY_MS,
    }),
    webhook: {
      recentBodies: new RedisAlertBodies(app.redis, config.QUEUE_PREFIX),
      knownSymbol: (symbol) => app.exchange.instrument(symbol) !== undefined,
    },
    board: Object.values(app.queues).map((q) => new BullMQAdapter(q, { readOnlyMode: true })),
  };
}

/** Retrying failed deliveries, audited: the API's and the CLI's. */
export function deliveries(app: App): Deliveries {
  return new Deliveries({
    queue: new BullDeliveryQueue(app.queues[QUEUES.deliveries], app.jobTag),
    failures: new PgNotificationFailures(app.ds),
    audit: new PgAuditLog(app.ds),
  });
}

/**
 * The api role: health, the REST API and dashboard, metrics, the queue board and the TradingView webhook. Without
 * API_TOKEN nothing asks for a token, so it listens on loopback only, whatever HTTP_HOST says.
 */
export async function startApi(app: App): Promise<Role & { address: string }> {
  const { config, log } = app;
  const server = buildHttpServer(httpServices(app));
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(config.HTTP_HOST);
  const host = config.API_TOKEN || loopback ? config.HTTP_HOST : '127.0.0.1';
  if (!config.API_TOKEN) {
    log.warn(
      `API_TOKEN is unset: the API and dashboard need no token, so HTTP listens on ${host} only` +
        (loopback ? '' : ` (not ${config.HTTP_HOST}); set API_TOKEN to serve other machines`),
    );
  }
  const address = await server.app.listen({ port: config.HTTP_PORT, host });
  log.info(`HTTP on ${address} (${server.summary})`);
  return { address, stop: () => server.close() };
}
