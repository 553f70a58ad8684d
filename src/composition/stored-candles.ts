import type { DataSource } from 'typeorm';
import type { CandleQuery } from '../app/ports/candles.js';
import { CandlesUnavailable } from '../app/ports/candles.js';
import { EnvironmentError } from '../cli/backtest-command.js';
import type { Config } from '../config.js';
import type { CandleSeries } from '../engine/candles.js';

/**
 * The candles of the Postgres store (filled by `npm run cli -- data fetch`). The configuration, TypeORM and pg are
 * imported here, on this path only, so a backtest of a file starts as fast as it always did.
 */
export async function loadStoredCandles(
  source: Extract<CandleQuery, { kind: 'store' }>,
): Promise<CandleSeries> {
  const { ConfigError, loadConfig } = await import('../config.js');
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) throw new EnvironmentError(e.message);
    throw e;
  }
  const [
    { createDataSource },
    { isPgError, PG },
    { StoredCandles, noCandlesMessage },
    { explainStartupError },
  ] = await Promise.all([
    import('../db/data-source.js'),
    import('../db/pg-errors.js'),
    import('../db/ohlcv-store.js'),
    import('../startup-errors.js'),
  ]);
  // Read only: no database is created and nothing is migrated for a backtest (`data fetch` does that).
  const ds: DataSource = createDataSource(config.DATABASE_URL, 2);
  try {
    await ds.initialize();
  } catch (e) {
    if (isPgError(e, PG.invalidCatalogName)) {
      throw new CandlesUnavailable(
        noCandlesMessage(source, 'the database in DATABASE_URL does not exist yet'),
      );
    }
    const why = explainStartupError(e, { database: config.DATABASE_URL, redis: config.REDIS_URL });
    throw new EnvironmentError(why ?? `cannot open the database: ${(e as Error).message}`);
  }
  try {
    return await new StoredCandles(ds).load(source);
  } finally {
    await ds.destroy().catch(() => undefined);
  }
}
