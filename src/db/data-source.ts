import pg from 'pg';
import { DataSource } from 'typeorm';
import { LOCKS } from './locks.js';
import { InitialSchema1764000000000 } from './migrations/1764000000000-initial-schema.js';
import { Risk1764100000000 } from './migrations/1764100000000-risk.js';
import { KillSellOff1764200000000 } from './migrations/1764200000000-kill-sell-off.js';
import { TradeFeeQuote1764300000000 } from './migrations/1764300000000-trade-fee-quote.js';
import { Chat1764350000000 } from './migrations/1764350000000-chat.js';
import { AlertIntake1764400000000 } from './migrations/1764400000000-alert-intake.js';
import { AlertPendingIndex1764500000000 } from './migrations/1764500000000-alert-pending-index.js';
import { TradeOrderId1764600000000 } from './migrations/1764600000000-trade-order-id.js';
import { HeldOrders1764650000000 } from './migrations/1764650000000-held-orders.js';
import { InstallId1764700000000 } from './migrations/1764700000000-install-id.js';
import { GridWaiting1764800000000 } from './migrations/1764800000000-grid-waiting.js';

export const MIGRATIONS = [
  InitialSchema1764000000000,
  Risk1764100000000,
  KillSellOff1764200000000,
  TradeFeeQuote1764300000000,
  Chat1764350000000,
  AlertIntake1764400000000,
  AlertPendingIndex1764500000000,
  TradeOrderId1764600000000,
  HeldOrders1764650000000,
  InstallId1764700000000,
  GridWaiting1764800000000,
];

export function createDataSource(url: string, poolSize = 10): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    logging: false,
    extra: { max: poolSize, application_name: 'gridops' },
  });
}

/** Creates the database named in the URL if it does not exist (connecting to the server's `postgres` database). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) return;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      } catch (e) {
        // Two processes starting at once: the other one created it first.
        if ((e as { code?: string }).code !== '42P04') throw e;
      }
    }
  } finally {
    await client.end();
  }
}

/** Connects, creating the database and running pending migrations; safe for several processes starting at once. */
export async function openDatabase(url: string, poolSize?: number): Promise<DataSource> {
  await ensureDatabase(url);
  const ds = createDataSource(url, poolSize);
  await ds.initialize();
  // Migrations under an advisory lock, so two processes starting together do not both run them.
  const runner = ds.createQueryRunner();
  try {
    await runner.query(`SELECT pg_advisory_lock(${LOCKS.migrations})`);
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await runner.query(`SELECT pg_advisory_unlock(${LOCKS.migrations})`).catch(() => undefined);
    await runner.release();
  }
  return ds;
}
