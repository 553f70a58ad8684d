import { databaseScope } from '../app/database-scope.js';
import type { Config } from '../config.js';
import { RedisCallStats } from '../db/call-stats-store.js';
import { PgRedisInstallScope } from '../db/install-scope-store.js';
import { CallStatsRecorder } from '../exchange/call-stats.js';
import type { Logger } from '../log/logger.js';
import { simulatedInstrument } from '../market/instruments.js';
import { type Connections, openConnections } from './connections.js';
import { type ExchangeSetup, openExchange } from './exchange.js';
import { type AppServices, createServices } from './services.js';

/**
 * Everything one process holds, wired once: connections, the exchange of its mode, the application services. Only
 * src/composition and the tests' harness see it; surfaces (HTTP, chat, CLI) get narrow objects of app services made
 * from it by their role (api-role.ts, bot-role.ts, cli.ts).
 */
export interface App extends Connections, ExchangeSetup, AppServices {
  readonly config: Config;
  readonly log: Logger;
  /** The traded symbols. */
  readonly symbols: readonly string[];
  /** The Redis prefix of this database's own keys (risk figures, price checks, prices, the kill flag). */
  readonly scope: string;
  /**
   * This database's tag in job ids (the first 8 characters of its install id): keys restart with a new database
   * (grid g1, incident 1), and BullMQ drops a job whose id a Redis that served an old database still holds.
   */
  readonly jobTag: string;
  /** Outcomes of every exchange call, for the error rate the risk worker reads. */
  readonly callStats: CallStatsRecorder;
}

/** A role that runs until stopped. */
export interface Role {
  stop(): Promise<void>;
}

export function marketSymbols(config: Config): string[] {
  if (config.TRADING_MODE === 'paper' && config.MARKET_DATA.startsWith('replay:')) {
    const file = config.MARKET_DATA.slice('replay:'.length);
    const m = /([A-Z0-9]+?)(?:-|_|\.)/.exec(file.split('/').pop() ?? '');
    return [m?.[1] && simulatedInstrument(m[1]) ? m[1] : 'BTCUSDT'];
  }
  return config.MARKET_SYMBOLS.split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
}

/** Connects to Postgres (creating the database and migrating) and Redis, opens the exchange, builds the services. */
export async function createApp(config: Config, log: Logger): Promise<App> {
  const conns = await openConnections(config);
  try {
    const symbols = marketSymbols(config);
    const scope = await databaseScope(
      new PgRedisInstallScope(conns.ds, conns.redis),
      config.QUEUE_PREFIX,
      log,
    );
    const callStats = new CallStatsRecorder(new RedisCallStats(conns.redis, scope));
    const jobTag = scope.slice(scope.lastIndexOf(':db:') + 4).slice(0, 8);
    const ex = await openExchange(config, { ds: conns.ds, symbols, callStats, log });
    const services = await createServices(config, log, conns, ex, { scope, callStats, jobTag });
    return { config, log, symbols, scope, jobTag, callStats, ...conns, ...ex, ...services };
  } catch (e) {
    await conns.close();
    throw e;
  }
}
