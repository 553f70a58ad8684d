// The CLI's entry point: like src/main.ts for the app, the one file of its surface that may wire concrete pieces.
import { openCli } from '../composition/cli.js';
import { type Config, ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../log/logger.js';
import { explainStartupError } from '../startup-errors.js';
import { runCli } from './commands.js';

process.exitCode = await runCli(process.argv.slice(2), async () => {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`gridops: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const log = createLogger({ level: 'warn', format: 'json', isTty: false });
  try {
    return await openCli(config, log);
  } catch (e) {
    process.stderr.write(
      `gridops: ${explainStartupError(e, { database: config.DATABASE_URL, redis: config.REDIS_URL }) ?? (e as Error).message}\n`,
    );
    return 1;
  }
});
