import type { DataSource } from 'typeorm';

/**
 * Every Postgres advisory lock the app takes, in one place, so no two uses can pick the same number by accident.
 * Session locks (pg_advisory_lock) are released with their connection; transaction locks (pg_advisory_xact_lock) at
 * commit. Keys of the two-key form (`alertSymbol`) live in their own key space and cannot meet the one-key ones.
 */
export const LOCKS = {
  /** Migrations: two processes starting together do not both run them (session lock). */
  migrations: 727_274,
  /** Creating the grids file's or the demo grids: one worker does it (session lock, tried). */
  bootstrapGrids: 727_275,
  /**
   * Grid creation is serialized under it so two at once cannot both pass the total investment cap (transaction
   * lock); and the first key of the per-symbol alert lock (`pg_advisory_lock(727276, hashtext(symbol))`), which as a
   * two-key lock cannot collide with the one-key use.
   */
  gridCaps: 727_276,
  alertSymbol: 727_276,
} as const;

/**
 * Runs `work` holding a session advisory lock if it is free, on one pooled connection; returns false at once if
 * another session holds it. The lock goes back with its connection, released whatever happened.
 */
export async function withTriedSessionLock(
  ds: DataSource,
  key: number,
  work: () => Promise<void>,
): Promise<boolean> {
  const runner = ds.createQueryRunner();
  let locked = false;
  try {
    [{ locked }] = (await runner.query(`SELECT pg_try_advisory_lock($1) AS locked`, [key])) as [
      { locked: boolean },
    ];
    if (locked) await work();
    return locked;
  } finally {
    if (locked) await runner.query(`SELECT pg_advisory_unlock($1)`, [key]).catch(() => undefined);
    await runner.release();
  }
}
