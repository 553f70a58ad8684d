import { type Job, Worker } from 'bullmq';
import type { Config } from '../config.js';
import { type QueueName, redisConnection } from '../jobs/queues.js';
import type { Logger } from '../log/logger.js';

/** Makes BullMQ workers with the app's lock settings, logging failures (the job stays visible on the board). */
export function queueWorkers(config: Config, log: Logger) {
  return (
    name: QueueName,
    handler: (job: Job, token?: string) => Promise<void>,
    concurrency: number,
  ): Worker => queueWorker(config, log, name, handler, concurrency);
}

function queueWorker(
  config: Config,
  log: Logger,
  name: QueueName,
  handler: (job: Job, token?: string) => Promise<void>,
  concurrency: number,
): Worker {
  const worker = new Worker(name, handler, {
    connection: redisConnection(config.REDIS_URL),
    prefix: config.QUEUE_PREFIX,
    concurrency,
    lockDuration: config.JOB_LOCK_MS,
    stalledInterval: config.JOB_LOCK_MS,
  });
  worker.on('failed', (job, error) => {
    log.warn({ queue: name, jobId: job?.id, attempts: job?.attemptsMade }, `job failed: ${error.message}`);
  });
  worker.on('error', (error) => log.error({ queue: name }, `worker error: ${error.message}`));
  return worker;
}
