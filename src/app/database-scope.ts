import type { Logger } from '../log/logger.js';
import type { InstallScopeStore } from './ports/install-scope.js';

/**
 * The Redis key prefix of everything in Redis that belongs to this database: QUEUE_PREFIX and the database's own
 * identity (drawn once by a migration). Risk figures, price checks, the exchange's error rate, the latest prices and
 * the kill flag live under it, so no figure that can pull the kill switch comes from a store of another database: a
 * new database started against a Redis that served another one starts clean.
 *
 * BullMQ's queues stay under QUEUE_PREFIX itself (every process of an installation must find them); when the prefix
 * last served another database, this says so at start.
 */
export async function databaseScope(store: InstallScopeStore, prefix: string, log: Logger): Promise<string> {
  const id = await store.databaseId();
  if (!id) throw new Error('the database has no identity (table installation is empty): was it migrated?');
  const previous = await store.claimPrefix(prefix, id);
  if (previous !== null && previous !== id) {
    log.warn(
      `QUEUE_PREFIX ${prefix} in this Redis last served another database (${previous}); this one is ${id}: its risk figures start clean, but jobs still queued by the other may run here: give each database its own QUEUE_PREFIX`,
    );
  }
  return `${prefix}:db:${id}`;
}
