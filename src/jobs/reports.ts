import { type Job, UnrecoverableError } from 'bullmq';
import type { DataSource } from 'typeorm';
import type { Notification } from '../app/ports/core.js';
import { periodReport, type Reports } from '../app/reports.js';
import { PgApiKeyChecks } from '../db/api-key-store.js';
import { PgReportStore } from '../db/report-store.js';
import { ReportPayload } from './payloads.js';

/** The reports queue's job: the app's daily (or weekly) report of the payload's day, sent as a notification. */
export function reportHandler(deps: {
  reports: Pick<Reports, 'periodReport'>;
  notify: (n: Notification) => Promise<void>;
}) {
  return async (job: Job): Promise<void> => {
    const r = ReportPayload.safeParse(job.data);
    // A payload that does not parse will not parse on a retry either: fail it for good, visibly.
    if (!r.success) throw new UnrecoverableError(`bad ${job.name} payload: ${r.error.message}`);
    const { kind, day } = r.data;
    await deps.notify(await deps.reports.periodReport(day, kind === 'weekly' ? 7 : 1));
  };
}

/**
 * The report over a bare connection, for callers not yet handed the app's Reports (the CLI's composition, the Bybit
 * start test): the same read as Reports.periodReport.
 */
export function buildDailyReport(
  ds: DataSource,
  day: string,
  days = 1,
  now: Date = new Date(),
): Promise<Notification> {
  return periodReport({ store: new PgReportStore(ds), keyChecks: new PgApiKeyChecks(ds) }, day, days, now);
}
