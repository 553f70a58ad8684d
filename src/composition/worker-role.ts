import { AlertProcessor } from '../app/alerts.js';
import type { GridsFile } from '../app/grids-file.js';
import { ReadinessProbe } from '../app/readiness.js';
import { PgAlertStore } from '../db/alert-store.js';
import { RedisReadinessRecords } from '../db/readiness-store.js';
import { asProbe } from '../exchange/call-stats.js';
import { QueueGridEventBus, QueueNotifier } from '../jobs/bus.js';
import { alertHandler, gridEventHandler, maintenanceHandler, priceHandler } from '../jobs/handlers.js';
import { QUEUES } from '../jobs/queues.js';
import { followedOnly } from '../market/feed.js';
import type { App, Role } from './app.js';
import { bootstrapGrids } from './bootstrap.js';
import { startMarketLease } from './market-lease.js';
import { queueWorkers } from './queue-worker.js';

/** Recorded alerts that never reached the queue (a crash between the two) are applied by a sweep this often. */
const ALERT_SWEEP_EVERY_MS = 30_000;
const ALERT_SWEEP_AFTER_MS = 10_000;

/**
 * The worker role: grid events, prices, reconciliation, alerts, and (for one process at a time) the market feed. Any
 * number of worker processes may run side by side.
 */
export async function startWorker(
  app: App,
  gridsFile: GridsFile | null = null,
): Promise<Role & { bootstrapped: Promise<void> }> {
  const { config, log, queues } = app;
  // Before any new work: make the store agree with the exchange (fills missed while down, intents never sent).
  await app.reconciler.run({ settleMs: 1000 });
  // What /readyz reports: the exchange asked once per period by a worker, whatever the number of requests.
  const readiness = new ReadinessProbe({
    records: new RedisReadinessRecords(app.redis, config.QUEUE_PREFIX),
    log,
    checks: { exchange: () => asProbe(() => app.exchange.balances()) },
  });
  readiness.start();
  const bus = new QueueGridEventBus(queues[QUEUES.gridEvents], app.jobTag);
  const worker = queueWorkers(config, log);
  const workers = [
    worker(QUEUES.gridEvents, gridEventHandler(app.processor), config.WORKER_CONCURRENCY),
    worker(
      QUEUES.prices,
      priceHandler({
        grids: app.stores.grids,
        trades: app.stores.trades,
        paper: app.paper,
        prices: app.prices,
        bus,
        monitor: app.monitor,
        held: app.processor,
        followOnly: followedOnly(app.symbols),
      }),
      config.WORKER_CONCURRENCY,
    ),
    worker(QUEUES.maintenance, maintenanceHandler(app.reconciler, app.monitor), 1),
    // Alerts are applied in order per symbol under a lock held on a pooled connection (src/db/alert-store.ts): one job at
    // a time holds at most one connection, so no pool size can deadlock; each job applies everything pending.
    worker(
      QUEUES.alerts,
      alertHandler(
        new AlertProcessor({
          store: new PgAlertStore(app.ds),
          grids: app.grids,
          notifier: new QueueNotifier(queues[QUEUES.notifications], app.jobTag),
          log,
        }),
        ALERT_SWEEP_AFTER_MS,
      ),
      1,
    ),
  ];
  await queues[QUEUES.alerts].upsertJobScheduler('sweep', { every: ALERT_SWEEP_EVERY_MS }, { name: 'sweep' });
  await queues[QUEUES.maintenance].upsertJobScheduler(
    'reconcile',
    { every: config.RECONCILE_EVERY_MS },
    { name: 'reconcile' },
  );
  await queues[QUEUES.maintenance].upsertJobScheduler(
    'risk-check',
    { every: config.RISK_EVERY_MS },
    { name: 'risk-check' },
  );
  const market = startMarketLease(app);
  // Not awaited (it waits for prices, which need the roles running), but observable: the start-up listing waits for it.
  const bootstrapped = bootstrapGrids(app, gridsFile).catch((e) =>
    log.error(`could not set up grids: ${(e as Error).message}`),
  );
  return {
    bootstrapped,
    async stop() {
      await readiness.stop();
      await market.stop();
      // Stop taking jobs; in-flight ones finish (BullMQ's close waits for them).
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
