import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { InstallScopeStore } from '../app/ports/install-scope.js';

/** The `installation` row in Postgres, and `<prefix>:database` in Redis (the database the prefix last served). */
export class PgRedisInstallScope implements InstallScopeStore {
  constructor(
    private readonly ds: DataSource,
    private readonly redis: Redis,
  ) {}

  async databaseId(): Promise<string | null> {
    const [row] = (await this.ds.query(`SELECT id FROM installation WHERE singleton`)) as { id: string }[];
    return row?.id ?? null;
  }

  claimPrefix(prefix: string, databaseId: string): Promise<string | null> {
    return this.redis.getset(`${prefix}:database`, databaseId);
  }
}
