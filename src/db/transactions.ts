import type { DataSource, EntityManager } from 'typeorm';
import type { Transactions, Tx } from '../app/ports/tx.js';
import { isRetryable } from './pg-errors.js';

/** A transaction retried on serialization failures and deadlocks, which Postgres asks the client to retry. */
export async function withTransaction<T>(
  ds: DataSource,
  work: (m: EntityManager) => Promise<T>,
  attempts = 5,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ds.transaction(work);
    } catch (e) {
      if (!isRetryable(e) || attempt >= attempts) throw e;
      // Jitter, so two retried transactions do not meet again at the same moment.
      await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 10));
    }
  }
}

/** The app's Tx is a TypeORM EntityManager inside src/db: wrapped on the way up, unwrapped on the way down. */
export function txOf(m: EntityManager): Tx {
  return m as unknown as Tx;
}

/** Where a store's statement runs: inside the caller's transaction when it passes one, else on the pool. */
export function runner(ds: DataSource, tx?: Tx): { query: EntityManager['query'] } {
  return tx ? (tx as unknown as EntityManager) : ds;
}

export class PgTransactions implements Transactions {
  constructor(private readonly ds: DataSource) {}

  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return withTransaction(this.ds, (m) => work(txOf(m)));
  }
}
