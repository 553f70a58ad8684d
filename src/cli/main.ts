import { userInfo } from 'node:os';
import type { Actor, ServiceError } from '../app/actor.js';
import type { GridSummary } from '../app/grid-service.js';
import { type Config, ConfigError, loadConfig } from '../config.js';
import type { Result } from '../engine/result.js';
import { buildDailyReport } from '../jobs/reports.js';
import { createLogger } from '../log/logger.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { explainStartupError } from '../startup-errors.js';

const USAGE = `usage: npm run cli -- <command>
  grid list                         every grid with its state and P/L
  grid show <id|name|symbol>        one grid
  grid create <SYMBOL> <LOWER> <UPPER> <GRIDS> <INVESTMENT> [--geometric] [--stop-loss S] [--take-profit T] [--name N] [--no-start]
  grid start|pause|resume|stop <id|name|symbol>
  report daily [YYYY-MM-DD]         the daily report (today by default)`;

const CLI_ACTOR: Actor = { id: userInfo().username || 'cli', via: 'cli', role: 'operator' };

function row(g: GridSummary): string {
  const label = g.demo ? ' [demo]' : '';
  return [
    `${g.id.padEnd(5)} ${g.name}${label}`,
    `  ${g.symbol} ${g.status}${g.stopReason ? ` (${g.stopReason})` : ''}, ${g.grids} ${g.mode} grids ${g.lower}-${g.upper}, investment ${g.investment}`,
    `  price ${g.lastPrice ?? '?'}, base ${g.baseQty}, quote ${g.quoteBalance}, open orders ${g.openOrders}`,
    `  realized ${g.realizedPnl}, fees ${g.fees}, unrealized ${g.unrealizedPnl ?? '?'}`,
  ].join('\n');
}

function print(r: Result<GridSummary | GridSummary[], ServiceError>): number {
  if (!r.ok) {
    process.stderr.write(`gridops: ${r.error.message}\n`);
    return 2;
  }
  const list = Array.isArray(r.value) ? r.value : [r.value];
  process.stdout.write(list.length ? `${list.map(row).join('\n')}\n` : 'no grids\n');
  return 0;
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  args.splice(i, 2);
  return value;
}

async function run(rt: Runtime, argv: string[]): Promise<number> {
  const [group, command, ...rest] = argv;
  if (group === 'grid') {
    const ref = rest[0] ?? '';
    switch (command) {
      case 'list':
        return print(await rt.grids.list(CLI_ACTOR));
      case 'show':
        return print(await rt.grids.get(CLI_ACTOR, ref));
      case 'start':
        return print(await rt.grids.start(CLI_ACTOR, ref));
      case 'pause':
        return print(await rt.grids.pause(CLI_ACTOR, ref));
      case 'resume':
        return print(await rt.grids.resume(CLI_ACTOR, ref));
      case 'stop':
        return print(await rt.grids.stop(CLI_ACTOR, ref));
      case 'create': {
        const args = [...rest];
        const geometric = args.includes('--geometric');
        const noStart = args.includes('--no-start');
        const stopLoss = flag(args, '--stop-loss');
        const takeProfit = flag(args, '--take-profit');
        const name = flag(args, '--name');
        const [symbol, lower, upper, grids, investment] = args.filter((a) => !a.startsWith('--'));
        return print(
          await rt.grids.create(CLI_ACTOR, {
            symbol,
            lower,
            upper,
            grids,
            investment,
            mode: geometric ? 'geometric' : 'arithmetic',
            start: !noStart,
            ...(stopLoss ? { stopLoss } : {}),
            ...(takeProfit ? { takeProfit } : {}),
            ...(name ? { name } : {}),
          }),
        );
      }
    }
  }
  if (group === 'report' && command === 'daily') {
    const day = rest[0] ?? new Date().toISOString().slice(0, 10);
    const report = await buildDailyReport(rt.ds, day);
    process.stdout.write(`${report.title}\n${report.lines.map((l) => `  ${l}`).join('\n')}\n`);
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return argv.length === 0 ? 2 : 0;
  }
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
  let rt: Runtime;
  try {
    rt = await createRuntime(config, log);
  } catch (e) {
    process.stderr.write(
      `gridops: ${explainStartupError(e, { database: config.DATABASE_URL, redis: config.REDIS_URL }) ?? (e as Error).message}\n`,
    );
    return 1;
  }
  try {
    return await run(rt, argv);
  } finally {
    await rt.close();
  }
}

process.exitCode = await main();
