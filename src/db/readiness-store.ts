import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { DatabasePing, ReadinessRecord, ReadinessRecords } from '../app/ports/readiness.js';

export const readinessKey = (prefix: string) => `${prefix}:readiness`;

/** The readiness record as JSON under `<prefix>:readiness` (QUEUE_PREFIX: every process of the installation). */
export class RedisReadinessRecords implements ReadinessRecords {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async save(record: ReadinessRecord, ttlMs: number): Promise<void> {
    await this.redis.set(readinessKey(this.prefix), JSON.stringify(record), 'PX', ttlMs);
  }

  async load(): Promise<ReadinessRecord | null> {
    return parseRecord(await this.redis.get(readinessKey(this.prefix)));
  }
}

function parseRecord(text: string | null): ReadinessRecord | null {
  if (!text) return null;
  try {
    const r = JSON.parse(text) as ReadinessRecord;
    return typeof r.atMs === 'number' && r.checks && typeof r.checks === 'object' ? r : null;
  } catch {
    return null;
  }
}

export class PgPing implements DatabasePing {
  constructor(private readonly ds: DataSource) {}

  async ping(): Promise<void> {
    await this.ds.query('SELECT 1');
  }
}
