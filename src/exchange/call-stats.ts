import { AsyncLocalStorage } from 'node:async_hooks';
import type { Redis } from 'ioredis';

export interface CallStats {
  readonly total: number;
  readonly ok: number;
  readonly failed: number;
  /** Retries that the calls above needed (a retried call that then succeeded counts as ok, not failed). */
  readonly retries: number;
  /** Failures by kind and reason, e.g. "ambiguous:timeout", "rejected:insufficient-balance", "rate-limited". */
  readonly byReason: Readonly<Record<string, number>>;
}

const BUCKET_MS = 10_000;

/** Set while a health probe runs: its calls are the probe's business, not the trading's. */
const probing = new AsyncLocalStorage<true>();

/**
 * Runs a health probe (readiness: is the exchange reachable?) whose exchange calls are not counted: a probe
 * failing, or run often, must not move the error rate the kill switch reads.
 */
export function asProbe<T>(probe: () => Promise<T>): Promise<T> {
  return probing.run(true, probe);
}

/**
 * Every exchange call's outcome, counted in Redis in 10-second buckets shared by all processes, so the risk worker can
 * read the error rate of the whole installation over a sliding window. `prefix` is the database's scope
 * (databaseScope): the error rate can pull the kill switch, so another database's calls never count here.
 */
export class CallStatsRecorder {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly nowMs: () => number = Date.now,
  ) {}

  record(outcome: { ok: boolean; reason: string | null; retries?: number }): void {
    if (probing.getStore()) return;
    const bucket = Math.floor(this.nowMs() / BUCKET_MS) * BUCKET_MS;
    const key = `${this.prefix}:exchange-calls:${bucket}`;
    const field = outcome.ok ? 'ok' : `failed:${outcome.reason ?? 'unknown'}`;
    // Fire and forget: counting must never slow or break a trading call.
    this.redis
      .multi()
      .hincrby(key, field, 1)
      .hincrby(key, 'retries', outcome.retries ?? 0)
      .pexpire(key, 3_600_000)
      .exec()
      .catch(() => undefined);
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
