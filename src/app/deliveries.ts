import type { Job, Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { err, ok, type Result } from '../engine/result.js';
import type { Actor, ServiceError } from './actor.js';

/** BullMQ keeps this many failed jobs per queue (DEFAULT_JOB_OPTIONS.removeOnFail): all of them are looked at. */
const MAX_FAILED = 10_000;

/**
 * Notification deliveries that gave up (a chat app down for longer than the retries, a webhook answering 4xx):
 * their jobs stay in the deliveries queue as failed, with the message, and each is recorded in notification_failure.
 * Once the cause is fixed an operator sends them again, from the API or the CLI; the queue board only shows them.
 */
export class Deliveries {
  constructor(private readonly deps: { ds: DataSource; queue: Queue }) {}

  /**
   * Sends every failed delivery back to the queue with its attempts renewed, and forgets its failure record (a new
   * failure is recorded afresh). Safe to run twice: a job already retried is no longer failed and is skipped.
   */
  async retryFailed(actor: Actor): Promise<Result<{ retried: number }, ServiceError>> {
    if (actor.role !== 'operator') {
      await this.audit(actor, 'refused: forbidden', null);
      return err({ kind: 'forbidden', message: 'retrying deliveries needs an operator' });
    }
    const failed = await this.deps.queue.getFailed(0, MAX_FAILED - 1);
    let retried = 0;
    for (const job of failed) {
      const destination = typeof job.data?.destination === 'string' ? job.data.destination : null;
      if (destination !== null) {
        await this.deps.ds.query(
          `DELETE FROM notification_failure WHERE destination = $1 AND notification_key = $2`,
          [destination, failureKey(job)],
        );
      }
      try {
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        retried += 1;
      } catch {
        // Retried meanwhile (by another operator, or a second run of this one), or pruned: nothing to do.
      }
    }
    await this.audit(actor, 'ok', { retried });
    return ok({ retried });
  }

  private async audit(actor: Actor, outcome: string, detail: unknown): Promise<void> {
    await this.deps.ds.query(
      `INSERT INTO audit_log (actor, via, role, action, target, outcome, detail)
       VALUES ($1, $2, $3, 'retry-deliveries', 'deliveries', $4, $5)`,
      [actor.id, actor.via, actor.role, outcome, detail === null ? null : JSON.stringify(detail)],
    );
  }
}

/** The key notification_failure holds for a delivery job, as NotificationRouter.deliver records it. */
function failureKey(job: Job): string {
  if (job.name === 'digest') return `digest-${job.id}`;
  const key = (job.data?.notification as { key?: unknown } | undefined)?.key;
  return typeof key === 'string' ? key : '';
}
