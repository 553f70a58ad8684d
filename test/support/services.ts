import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS, openDatabase } from '../../src/db/data-source.js';

export const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = 'redis://127.0.0.1:6379';

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** A database of its own for one test file, dropped at the end: tests never share state. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `gridops_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  return {
    name,
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function migratedDatabase(): Promise<{ db: TestDatabase; ds: DataSource }> {
  const db = await createTestDatabase();
  const ds = await openDatabase(db.url, 10);
  return { db, ds };
}

/** A BullMQ prefix (and Redis key space) of its own. */
export function testPrefix(): string {
  return `gridops_test_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/**
 * A test database migrated up to, and not including, `migration`: the schema an older release left, for a test of
 * what that migration does to its rows. Run the rest with `ds.runMigrations` on a data source with every migration.
 */
export async function databaseBefore(
  url: string,
  migration: (typeof MIGRATIONS)[number],
): Promise<DataSource> {
  const mine = MIGRATIONS.indexOf(migration);
  if (mine <= 0) throw new Error(`${migration.name} is not a later migration of src/db/data-source.ts`);
  const before = new DataSource({
    type: 'postgres',
    url,
    migrations: MIGRATIONS.slice(0, mine),
    logging: false,
  });
  await before.initialize();
  await before.runMigrations({ transaction: 'each' });
  return before;
}
