import type { Logger } from '../log/logger.js';
import type { DatabasePing, ReadinessRecord, ReadinessRecords } from './ports/readiness.js';

/** How often a worker checks its dependencies and records the result. */
export const READINESS_EVERY_MS = 5_000;
/** A record older than three refreshes means no worker is checking: not ready. */
export const READINESS_STALE_MS = 3 * READINESS_EVERY_MS;
/** The api's own checks (Postgres, Redis) are shared by every request within this window. */
const API_CHECK_CACHE_MS = 1_000;

export type CheckWord = 'ok' | 'down' | 'stale' | 'unknown';

/**
 * The worker side: every READINESS_EVERY_MS, each check (the exchange) is run once, with a deadline, and the
 * outcome recorded in Redis. Readiness requests only read that record, so however many arrive, the exchange is
 * asked once per period; the exchange's check runs as a probe that does not count in the kill switch's error rate.
 * A check's error text goes to the log when its state changes, never to an HTTP answer.
 */
export class ReadinessProbe {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly last = new Map<string, 'ok' | 'down'>();

  constructor(
    private readonly deps: {
      /** Where the record goes for every api process to read. */
      records: ReadinessRecords;
      log: Logger;
      checks: Record<string, () => Promise<unknown>>;
      everyMs?: number;
    },
  ) {}

  private get everyMs(): number {
    return this.deps.everyMs ?? READINESS_EVERY_MS;
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      this.refresh()
        .catch((e) => {
          if (!this.stopped)
            this.deps.log.warn(`readiness: could not record the checks: ${(e as Error).message}`);
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.everyMs).unref();
        });
    };
    tick();
  }

  /** Stops at once: a check still running (an exchange slow to answer) records nothing and holds no shutdown. */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return Promise.resolve();
  }

  /** Runs every check once and records the outcome. */
  async refresh(): Promise<void> {
    const entries = await Promise.all(
      Object.entries(this.deps.checks).map(async ([name, check]) => {
        const state = await withDeadline(check(), 2 * this.everyMs).then(
          () => 'ok' as const,
          (e: unknown) => {
            if (this.last.get(name) !== 'down')
              this.deps.log.warn({ check: name }, `readiness: ${name} is down: ${(e as Error).message}`);
            return 'down' as const;
          },
        );
        if (state === 'ok' && this.last.get(name) === 'down')
          this.deps.log.info({ check: name }, `readiness: ${name} is back`);
        this.last.set(name, state);
        return [name, state] as const;
      }),
    );
    if (this.stopped) return;
    const record: ReadinessRecord = { atMs: Date.now(), checks: Object.fromEntries(entries) };
    await this.deps.records.save(record, 10 * this.everyMs);
  }
}

export interface Readiness {
  readonly ready: boolean;
  /** postgres and redis as the api sees them; the worker's checks as last recorded; worker: is it recording? */
  readonly checks: Record<string, CheckWord>;
  /** Age of the worker's record, ms; null without one. */
  readonly ageMs: number | null;
}

/**
 * The api side: Postgres and Redis checked by the api itself, and the worker's record read, at most once per second
 * whatever the number of requests (concurrent ones share the answer in flight).
 */
export class ReadinessView {
  private cached: { atMs: number; value: Promise<Readiness> } | null = null;
  private readonly down = new Set<string>();

  constructor(
    private readonly deps: {
      /** The workers' record; reading it is also the api's check of Redis. */
      records: ReadinessRecords;
      postgres: DatabasePing;
      log: Logger;
      staleMs?: number;
      now?: () => number;
    },
  ) {}

  current(): Promise<Readiness> {
    const now = (this.deps.now ?? Date.now)();
    if (this.cached && now - this.cached.atMs < API_CHECK_CACHE_MS) return this.cached.value;
    const value = this.compute(now);
    this.cached = { atMs: now, value };
    return value;
  }

  private async compute(now: number): Promise<Readiness> {
    const [postgres, raw] = await Promise.all([
      this.check('postgres', () => this.deps.postgres.ping()),
      this.check('redis', () => this.deps.records.load()),
    ]);
    const checks: Record<string, CheckWord> = {
      postgres: postgres.ok ? 'ok' : 'down',
      redis: raw.ok ? 'ok' : 'down',
    };
    const record = raw.ok ? raw.value : null;
    const ageMs = record ? Math.max(0, now - record.atMs) : null;
    const fresh = ageMs !== null && ageMs <= (this.deps.staleMs ?? READINESS_STALE_MS);
    checks.worker = record === null ? (raw.ok ? 'unknown' : 'down') : fresh ? 'ok' : 'stale';
    for (const [name, state] of Object.entries(record?.checks ?? { exchange: 'down' as const })) {
      if (name === 'postgres' || name === 'redis' || name === 'worker') continue;
      checks[name] = record === null ? 'unknown' : fresh ? state : 'stale';
    }
    const ready = Object.values(checks).every((s) => s === 'ok');
    return { ready, checks, ageMs };
  }

  private async check<T>(
    name: string,
    run: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false }> {
    try {
      const value = await withDeadline(run(), 3_000);
      if (this.down.delete(name)) this.deps.log.info({ check: name }, `readiness: ${name} is back`);
      return { ok: true, value };
    } catch (e) {
      if (!this.down.has(name))
        this.deps.log.warn({ check: name }, `readiness: ${name} is down: ${(e as Error).message}`);
      this.down.add(name);
      return { ok: false };
    }
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
