import type { CliServices } from '../cli/commands.js';
import type { Config } from '../config.js';
import { backfillKlines, KlineError } from '../data/kline-backfill.js';
import { BybitApi } from '../exchange/bybit/api.js';
import { BybitRestClient } from '../exchange/bybit/rest-client.js';
import { ExchangeError } from '../exchange/exchange.js';
import type { Logger } from '../log/logger.js';
import { deliveries } from './api-role.js';
import { createApp } from './app.js';

/** The CLI's services over a whole app (its grid commands place orders like any surface's). */
export async function openCli(
  config: Config,
  log: Logger,
): Promise<{ services: CliServices; close(): Promise<void> }> {
  const app = await createApp(config, log);
  // Public klines need no key, so paper mode asks Bybit too.
  const klinesApi =
    app.bybit?.api ??
    new BybitApi(new BybitRestClient({ baseUrl: config.BYBIT_REST_URL ?? 'https://api.bybit.com' }));
  const services: CliServices = {
    grids: app.grids,
    risk: app.risk,
    deliveries: deliveries(app),
    dailyReport: (day) => app.reports.periodReport(day),
    async fetchKlines(a) {
      try {
        const nowMs = await klinesApi.serverTimeMs();
        const { fromMs, toMs } = a.range(nowMs);
        const r = await backfillKlines(klinesApi, app.ds, {
          symbol: a.symbol,
          interval: a.interval,
          fromMs,
          toMs,
          nowMs,
        });
        return { ok: true, ...r, fromMs, nowMs };
      } catch (e) {
        if (e instanceof ExchangeError) {
          return {
            ok: false,
            message: `Bybit klines for ${a.symbol}: ${e.message}`,
            exitCode: e.failure.kind === 'rejected' ? 2 : 1,
          };
        }
        if (e instanceof KlineError) return { ok: false, message: e.message, exitCode: 1 };
        throw e;
      }
    },
  };
  return { services, close: () => app.close() };
}
