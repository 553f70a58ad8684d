import type { Queue } from 'bullmq';
import { JOB_STATES, type JobState, type QueueStats } from '../app/ports/metrics.js';

export class BullQueueStats implements QueueStats {
  constructor(private readonly queues: Readonly<Record<string, Queue>>) {}

  async jobCounts(): Promise<{ queue: string; counts: Record<JobState, number> }[]> {
    const out: { queue: string; counts: Record<JobState, number> }[] = [];
    for (const [name, queue] of Object.entries(this.queues)) {
      const counts = await queue.getJobCounts(...JOB_STATES);
      out.push({
        queue: name,
        counts: Object.fromEntries(JOB_STATES.map((s) => [s, counts[s] ?? 0])) as Record<JobState, number>,
      });
    }
    return out;
  }

  async latenciesMs(sample: number): Promise<{ queue: string; ms: number[] }[]> {
    const out: { queue: string; ms: number[] }[] = [];
    for (const [name, queue] of Object.entries(this.queues)) {
      const jobs = await queue.getCompleted(0, sample - 1);
      out.push({
        queue: name,
        ms: jobs
          .filter((j) => j.finishedOn !== undefined)
          // A delayed or scheduled job is late from when it was due, not from when it was created.
          .map((j) => j.finishedOn! - j.timestamp - (j.delay ?? 0)),
      });
    }
    return out;
  }
}
