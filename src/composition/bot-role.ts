import cron from 'node-cron';
import { Backtests } from '../app/backtest.js';
import type { Notification } from '../app/ports/core.js';
import { SymbolSuggestions } from '../app/symbols.js';
import { type Chat, type ChatServices, startChat } from '../bot/start.js';
import { PgAuditLog } from '../db/audit-store.js';
import { RedisConfirmations } from '../db/confirmation-store.js';
import { PgNotificationFailures, PgNotifyPrefs } from '../db/notification-store.js';
import { StoredCandles } from '../db/ohlcv-store.js';
import { PgReportStore } from '../db/report-store.js';
import { QueueNotifier } from '../jobs/bus.js';
import { BullDeliveryQueue, deliveryHandler, RedisDigestBuffer } from '../jobs/delivery-queue.js';
import { notificationHandler } from '../jobs/handlers.js';
import { jobId } from '../jobs/payloads.js';
import { QUEUES } from '../jobs/queues.js';
import { reportHandler } from '../jobs/reports.js';
import type { App, Role } from './app.js';
import { queueWorkers } from './queue-worker.js';

/** What chat may use of the app: services and ports, never a connection or a queue. */
export function chatServices(app: App): ChatServices {
  const { config } = app;
  const instrument = (symbol: string) => app.exchange.instrument(symbol);
  return {
    config,
    grids: app.grids,
    risk: app.risk,
    views: app.views,
    reports: app.reports,
    backtests: new Backtests({ candles: new StoredCandles(app.ds), instrument }),
    symbols: new SymbolSuggestions({ market: app.symbols, store: new PgReportStore(app.ds) }),
    market: app.market,
    prices: app.prices,
    instrument,
    audit: new PgAuditLog(app.ds),
    confirmations: new RedisConfirmations(app.redis, config.QUEUE_PREFIX),
    prefs: new PgNotifyPrefs(app.ds),
    deliveries: new BullDeliveryQueue(app.queues[QUEUES.deliveries], app.jobTag),
    digests: new RedisDigestBuffer(app.redis, config.QUEUE_PREFIX),
    failures: new PgNotificationFailures(app.ds),
  };
}

/**
 * The bot role: everything said to humans. The chat transports (Telegram, Discord) whose tokens are set, with their
 * commands; notifications, logged and delivered to every configured destination; and the daily (and weekly) report,
 * which node-cron enqueues at the configured time and zone. Run one bot process at a time.
 */
export async function startNotifier(app: App): Promise<Role & { chat: Chat }> {
  const { config, log, queues } = app;
  const notifier = new QueueNotifier(queues[QUEUES.notifications], app.jobTag);
  const chat = await startChat(chatServices(app), log);
  const logged = notificationHandler(log.child({ component: 'notify' }));
  const worker = queueWorkers(config, log);
  const workers = [
    worker(
      QUEUES.notifications,
      async (job) => {
        await logged(job);
        await chat.router.route(job.data as Notification);
      },
      4,
    ),
    worker(QUEUES.deliveries, deliveryHandler(chat.router), 4),
    worker(
      QUEUES.reports,
      // Each report first checks the exchange API key again, so its warnings (an expiry among them) are today's.
      async (job) => {
        await app.apiKeyCheck?.refresh();
        await reportHandler({ reports: app.reports, notify: (n) => notifier.notify(n) })(job);
      },
      1,
    ),
  ];
  const report = (kind: 'daily' | 'weekly') => () => {
    const day = new Date().toISOString().slice(0, 10);
    void queues[QUEUES.reports].add(kind, { kind, day }, { jobId: jobId(kind, app.jobTag, day) });
  };
  const crons = [
    cron.schedule(config.DAILY_REPORT_CRON, report('daily'), { timezone: config.REPORT_TIMEZONE }),
    ...(config.WEEKLY_REPORT_CRON
      ? [cron.schedule(config.WEEKLY_REPORT_CRON, report('weekly'), { timezone: config.REPORT_TIMEZONE })]
      : []),
  ];
  return {
    chat,
    async stop() {
      for (const c of crons) c.stop();
      await Promise.all(workers.map((w) => w.close()));
      await chat.stop();
    },
  };
}
