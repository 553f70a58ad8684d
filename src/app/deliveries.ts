import { err, ok, type Result } from '../engine/result.js';
import type { Actor, ServiceError } from './actor.js';
import { failureKey } from './notifications.js';
import type { AuditLog } from './ports/audit.js';
import type { DeliveryQueue, NotificationFailures } from './ports/notifications.js';

/**
 * Notification deliveries that gave up (a chat app down for longer than the retries, a webhook answering 4xx):
 * their jobs stay in the deliveries queue as failed, with the message, and each is recorded in notification_failure.
 * Once the cause is fixed an operator sends them again, from the API or the CLI; the queue board only shows them.
 */
export class Deliveries {
  constructor(
    private readonly deps: {
      queue: Pick<DeliveryQueue, 'failed'>;
      failures: Pick<NotificationFailures, 'forget'>;
      audit: AuditLog;
    },
  ) {}

  /**
   * Sends every failed delivery back to the queue with its attempts renewed, and forgets its failure record (a new
   * failure is recorded afresh). Safe to run twice: a job already retried is no longer failed and is skipped.
   */
  async retryFailed(actor: Actor): Promise<Result<{ retried: number }, ServiceError>> {
    if (actor.role !== 'operator') {
      await this.audit(actor, 'refused: forbidden', null);
      return err({ kind: 'forbidden', message: 'retrying deliveries needs an operator' });
    }
    const failed = await this.deps.queue.failed();
    let retried = 0;
    for (const job of failed) {
      if (job.destination !== null) await this.deps.failures.forget(job.destination, failureKey(job));
      try {
        await job.retry();
        retried += 1;
      } catch {
        // Retried meanwhile (by another operator, or a second run of this one), or pruned: nothing to do.
      }
    }
    await this.audit(actor, 'ok', { retried });
    return ok({ retried });
  }

  private async audit(actor: Actor, outcome: string, detail: unknown): Promise<void> {
    await this.deps.audit.record({
      actor,
      action: 'retry-deliveries',
      target: 'deliveries',
      outcome,
      detail,
    });
  }
}
