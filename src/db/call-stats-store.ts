import type { Redis } from 'ioredis';
import type { CallOutcome, CallStats, CallStatsStore } from '../app/ports/risk.js';

const BUCKET_MS = 10_000;

/**
 * Exchange call outcomes counted in Redis in 10-second buckets (`<prefix>:exchange-calls:<bucket start>`, a hash of
 * 'ok', 'failed:<reason>' and 'retries', kept an hour), shared by all processes, so the risk worker reads the error
 * rate of the whole installation over a sliding window. `prefix` is the database's scope (databaseScope): the error
 * rate can pull the kill switch, so another database's calls never count here.
 */
export class RedisCallStats implements CallStatsStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async add(outcome: CallOutcome): Promise<void> {
    const bucket = Math.floor(this.nowMs() / BUCKET_MS) * BUCKET_MS;
    const key = `${this.prefix}:exchange-calls:${bucket}`;
    const field = outcome.ok ? 'ok' : `failed:${outcome.reason ?? 'unknown'}`;
    await this.redis
      .multi()
      .hincrby(key, field, 1)
      .hincrby(key, 'retries', outcome.retries ?? 0)
      .pexpire(key, 3_600_000)
      .exec();
  }

  async read(windowMs: number): Promise<CallStats> {
    const now = this.nowMs();
    const keys: string[] = [];
    for (let b = Math.floor((now - windowMs) / BUCKET_MS) * BUCKET_MS; b <= now; b += BUCKET_MS) {
      keys.push(`${this.prefix}:exchange-calls:${b}`);
    }
    const pipeline = this.redis.pipeline();
    for (const k of keys) pipeline.hgetall(k);
    const results = (await pipeline.exec()) ?? [];
    let ok = 0;
    let failed = 0;
    let retries = 0;
    const byReason: Record<string, number> = {};
    for (const [, value] of results) {
      for (const [field, count] of Object.entries((value as Record<string, string>) ?? {})) {
        const n = Number(count);
        if (field === 'ok') ok += n;
        else if (field === 'retries') retries += n;
        else {
          failed += n;
          const reason = field.slice('failed:'.length);
          byReason[reason] = (byReason[reason] ?? 0) + n;
        }
      }
    }
    return { total: ok + failed, ok, failed, retries, byReason };
  }
}
