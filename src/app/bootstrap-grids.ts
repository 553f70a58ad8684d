import { type Config, moneyAtStake } from '../config.js';
import { Dec, decText, floorToStep } from '../engine/money.js';
import type { MarketInstrument } from '../exchange/exchange.js';
import type { Logger } from '../log/logger.js';
import type { PriceCache } from '../market/price-cache.js';
import { type Actor, SYSTEM_ACTOR } from './actor.js';
import type { GridService, GridSummary } from './grid-service.js';
import type { GridsFile } from './grids-file.js';
import type { GridStore } from './ports/grids.js';

const CONFIG_ACTOR: Actor = { id: 'grids-file', via: 'config', role: 'operator' };

/** Which money a grid of this configuration trades with, for the lines that say a grid was made or will trade. */
export function moneyNote(config: Config): string {
  const money = moneyAtStake(config);
  if (money.label === 'paper') return 'paper money';
  return money.label === 'real' ? `REAL MONEY on ${money.host}` : `test money on ${money.host}`;
}

/** Demo grids are paper only: DEMO_GRIDS counts in paper and dry-run modes, never where an account is at stake. */
export function demoGridsApply(config: Config): boolean {
  return config.DEMO_GRIDS && (config.TRADING_MODE === 'paper' || config.TRADING_MODE === 'dry-run');
}

/** Grids declared in the grids file: created once each (by name), started unless `start: false`. */
export async function applyGridsFile(
  service: GridService,
  file: GridsFile,
  log: Logger,
  money = 'paper money',
): Promise<void> {
  const existing = await service.list(CONFIG_ACTOR);
  const names = new Set(existing.ok ? existing.value.map((g) => g.name) : []);
  for (const grid of file.grids) {
    if (names.has(grid.name)) continue;
    const created = await service.create(CONFIG_ACTOR, grid, 'config');
    if (created.ok)
      log.info({ gridId: created.value.id }, `grid ${grid.name} created from the grids file (${money})`);
    else log.error(`grid ${grid.name} from the grids file: ${created.error.message}`);
  }
}

/**
 * The start-up listing, once the grids are set up: every grid that trades (running) or will start trading by itself
 * (waiting for its trigger price) with its investment, and what is at stake in all per quote currency; then the grids
 * that hold money but place no order until a human acts. One line each, the first saying which money.
 */
export function tradingListing(
  grids: readonly GridSummary[],
  money: string,
  quoteOf: (symbol: string) => string | undefined,
): string[] {
  // A waiting grid needs no human to start: its money is at stake as much as a running grid's.
  const trading = grids.filter((g) => g.status === 'running' || g.status === 'waiting');
  const idle = grids.filter((g) => g.status === 'paused' || g.status === 'created');
  const totals = new Map<string, Dec>();
  for (const g of trading) {
    const quote = quoteOf(g.symbol) ?? 'quote';
    totals.set(quote, (totals.get(quote) ?? new Dec(0)).plus(g.investment));
  }
  const stake = [...totals].map(([quote, sum]) => `${decText(sum)} ${quote}`).join(' + ');
  const amount = (g: GridSummary) => `${g.investment} ${quoteOf(g.symbol) ?? ''}`.trimEnd();
  return [
    trading.length
      ? `${money}: ${trading.length} grid${trading.length === 1 ? '' : 's'} trading, ${stake} at stake`
      : `${money}: no grid is trading`,
    ...trading.map(
      (g) =>
        `${money}: grid ${g.id} ${g.name} ${g.symbol} ${g.status}, ${g.grids} lines ${g.lower}-${g.upper}, ${amount(g)} invested${g.status === 'waiting' ? ': starts trading by itself when the price reaches its trigger' : ''}`,
    ),
    ...idle.map(
      (g) =>
        `${money}: grid ${g.id} ${g.name} ${g.symbol} ${g.status}, ${amount(g)} invested: no order until it is ${g.status === 'paused' ? 'resumed' : 'started'}`,
    ),
  ];
}

/**
 * A first run with no grids: one demo grid per simulated symbol, ±3 % around the price with 30 lines (0.2 % apart), so
 * a new user sees fills within a minute. They are labelled demo in every listing.
 */
export async function createDemoGrids(deps: {
  grids: Pick<GridStore, 'count'>;
  service: GridService;
  prices: PriceCache;
  instruments: readonly MarketInstrument[];
  log: Logger;
  config: Config;
}): Promise<void> {
  // Demo grids buy at market at start: never with test or real money, whatever the caller asked.
  if (!demoGridsApply(deps.config)) return;
  if ((await deps.grids.count()) > 0) return;
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
      deps.log.info(
        { gridId: created.value.id },
        `demo grid on ${instrument.symbol} (${moneyNote(deps.config)})`,
      );
    else deps.log.warn(`demo grid on ${instrument.symbol}: ${created.error.message}`);
  }
}
