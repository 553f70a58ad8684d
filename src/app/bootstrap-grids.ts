import type { DataSource } from 'typeorm';
import { Dec, decText, floorToStep } from '../engine/money.js';
import type { MarketInstrument } from '../exchange/exchange.js';
import type { Logger } from '../log/logger.js';
import type { PriceCache } from '../market/price-cache.js';
import { type Actor, SYSTEM_ACTOR } from './actor.js';
import type { GridService } from './grid-service.js';
import type { GridsFile } from './grids-file.js';

const CONFIG_ACTOR: Actor = { id: 'grids-file', via: 'config', role: 'operator' };

/** Grids declared in the grids file: created once each (by name), started unless `start: false`. */
export async function applyGridsFile(service: GridService, file: GridsFile, log: Logger): Promise<void> {
  const existing = await service.list(CONFIG_ACTOR);
  const names = new Set(existing.ok ? existing.value.map((g) => g.name) : []);
  for (const grid of file.grids) {
    if (names.has(grid.name)) continue;
    const created = await service.create(CONFIG_ACTOR, grid, 'config');
    if (created.ok) log.info({ gridId: created.value.id }, `grid ${grid.name} created from the grids file`);
    else log.error(`grid ${grid.name} from the grids file: ${created.error.message}`);
  }
}

/**
 * A first run with no grids: one demo grid per simulated symbol, ±3 % around the price with 30 lines (0.2 % apart), so
 * a new user sees fills within a minute. They are labelled demo in every listing.
 */
export async function createDemoGrids(deps: {
  ds: DataSource;
  service: GridService;
  prices: PriceCache;
  instruments: readonly MarketInstrument[];
  log: Logger;
}): Promise<void> {
  const [{ count }] = (await deps.ds.query(`SELECT count(*)::int AS count FROM grid`)) as [{ count: number }];
  if (count > 0) return;
  for (const instrument of deps.instruments) {
    const latest = await deps.prices.get(instrument.symbol);
    if (!latest) continue;
    const price = new Dec(latest.price);
    const tick = new Dec(instrument.tickSize);
    const created = await deps.service.create(
      SYSTEM_ACTOR,
      {
        name: `demo-${instrument.symbol}`,
        symbol: instrument.symbol,
        lower: decText(floorToStep(price.times(0.97), tick)),
        upper: decText(floorToStep(price.times(1.03), tick)),
        grids: 30,
        mode: 'arithmetic',
        investment: '1000',
      },
      'demo',
      true,
    );
    if (created.ok)
      deps.log.info({ gridId: created.value.id }, `demo grid on ${instrument.symbol} (paper money)`);
    else deps.log.warn(`demo grid on ${instrument.symbol}: ${created.error.message}`);
  }
}
