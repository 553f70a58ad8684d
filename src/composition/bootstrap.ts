import { applyGridsFile, createDemoGrids, demoGridsApply, moneyNote } from '../app/bootstrap-grids.js';
import type { GridsFile } from '../app/grids-file.js';
import { LOCKS, withTriedSessionLock } from '../db/locks.js';
import type { App } from './app.js';

/**
 * Creates the grids of the grids file (or, on a first paper or dry-run run without one, the demo grids), once: with
 * several worker processes, the one holding a Postgres advisory lock does it. Grids start at a live price, so it waits
 * for prices.
 */
export async function bootstrapGrids(app: App, gridsFile: GridsFile | null): Promise<void> {
  const { config, log } = app;
  const demo = demoGridsApply(config);
  if (config.DEMO_GRIDS && !demo && !gridsFile) {
    log.info(
      `DEMO_GRIDS is ignored in ${config.TRADING_MODE} mode: demo grids are paper only (paper and dry-run modes); declare grids in GRIDS_FILE or create them through the API, the CLI or a chat`,
    );
  }
  if (!gridsFile && !demo) return;
  await withTriedSessionLock(app.ds, LOCKS.bootstrapGrids, async () => {
    for (let i = 0; i < 600; i++) {
      const known = await app.prices.all();
      if (app.symbols.every((s) => known.some((p) => p.symbol === s))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (gridsFile) {
      await applyGridsFile(app.grids, gridsFile, log, moneyNote(config));
    } else {
      await createDemoGrids({
        grids: app.stores.grids,
        service: app.grids,
        prices: app.prices,
        instruments: app.symbols.map((s) => app.exchange.instrument(s)!),
        log,
        config,
      });
    }
  });
}
