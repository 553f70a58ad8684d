import { parseArgs } from 'node:util';
import { moneyNote, tradingListing } from './app/bootstrap-grids.js';
import { type GridsFile, GridsFileError, readGridsFile } from './app/grids-file.js';
import { startApi } from './composition/api-role.js';
import { type App, createApp, type Role } from './composition/app.js';
import { startNotifier } from './composition/bot-role.js';
import { probeRedis } from './composition/connections.js';
import { startWorker } from './composition/worker-role.js';
import { type Config, ConfigError, exposureProblems, loadConfig, moneyAtStake } from './config.js';
import { createLogger } from './log/logger.js';
import { explainStartupError } from './startup-errors.js';

const SHUTDOWN_LIMIT_MS = 10_000;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { role: { type: 'string' } }, strict: true });
  let config: Config;
  try {
    config = loadConfig(undefined, { ROLE: values.role });
    const exposed = exposureProblems(config);
    if (exposed.length) throw new ConfigError(exposed);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`gridops: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  // The grids file is checked before anything starts: a typo should stop the bot with the field named, not later.
  let gridsFile: GridsFile | null = null;
  try {
    gridsFile = config.GRIDS_FILE ? readGridsFile(config.GRIDS_FILE) : null;
  } catch (e) {
    if (e instanceof GridsFileError) {
      process.stderr.write(`gridops: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const log = createLogger({
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT,
    isTty: Boolean(process.stdout.isTTY),
  });
  let rt: App;
  try {
    await probeRedis(config.REDIS_URL);
    rt = await createApp(config, log);
  } catch (e) {
    const line = explainStartupError(e, { database: config.DATABASE_URL, redis: config.REDIS_URL });
    process.stderr.write(`gridops: ${line ?? `cannot start: ${(e as Error).message}`}\n`);
    return 1;
  }
  const money = moneyAtStake(config);
  const where: Record<Config['TRADING_MODE'], string> = {
    paper: 'trading on the PAPER exchange: no real money',
    'dry-run': `trading on the PAPER exchange at live prices from ${money.host}: no real money`,
    testnet: `trading on Bybit TESTNET at ${money.host}: test money`,
    demo: `trading on Bybit DEMO trading at ${money.host}: demo money`,
    live: `trading on ${money.host} with REAL MONEY`,
  };
  // A testnet or demo mode pointed at any other host is real money, and the banner must say so.
  const banner = money.real ? `trading on ${money.host} with REAL MONEY` : where[config.TRADING_MODE];
  log.info(
    { role: config.ROLE, mode: config.TRADING_MODE, market: config.MARKET_DATA, symbols: rt.symbols },
    `GridOps ${config.ROLE === 'all' ? '' : `(${config.ROLE}) `}${banner}`,
  );
  // Signals are heard from here on: one that arrives while the roles are still starting waits for them to be up,
  // then stops them like any other (a default SIGTERM would kill the process mid-start).
  let signalled: ((signal: string) => void) | null = null;
  let early: string | null = null;
  const onSignal = (signal: string) => {
    if (signalled) signalled(signal);
    else early ??= signal;
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  const services: Role[] = [];
  const worker = config.ROLE === 'all' || config.ROLE === 'worker' ? await startWorker(rt, gridsFile) : null;
  if (worker) services.push(worker);
  if (config.ROLE === 'all' || config.ROLE === 'api') services.push(await startApi(rt));
  if (config.ROLE === 'all' || config.ROLE === 'bot') services.push(await startNotifier(rt));
  if (rt.bybit?.exchange) {
    // Where an exchange account is at stake: every grid that trades and the money at stake, once the grids file (or
    // anything else set up at start) has made its grids, so the list is what actually trades.
    void (async () => {
      await worker?.bootstrapped;
      const grids = await rt.grids.list({ id: 'gridops', via: 'system', role: 'readonly' });
      const lines = tradingListing(
        grids.ok ? grids.value : [],
        moneyNote(config),
        (s) => rt.exchange.instrument(s)?.quoteAsset,
      );
      for (const line of lines) {
        if (money.real) log.warn(line);
        else log.info(line);
      }
    })().catch((e) => log.error(`could not list the grids: ${(e as Error).message}`));
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal}: finishing in-flight work and shutting down`);
      const force = setTimeout(() => {
        log.error('shutdown took longer than 10 s; exiting anyway');
        resolve(1);
      }, SHUTDOWN_LIMIT_MS);
      force.unref();
      void (async () => {
        await Promise.allSettled(services.map((s) => s.stop()));
        await rt.close();
        clearTimeout(force);
        resolve(0);
      })();
    };
    signalled = shutdown;
    if (early) shutdown(early);
  });
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`gridops: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
