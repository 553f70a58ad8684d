import type { ReportStore } from './ports/reports.js';

/** The symbols a user may mean while typing one: the market's and those of existing grids. */
export class SymbolSuggestions {
  constructor(
    private readonly deps: {
      /** The symbols this process trades or follows. */
      readonly market: readonly string[];
      readonly store: Pick<ReportStore, 'gridSymbols'>;
    },
  ) {}

  /** Those holding what was typed (any case), sorted; at most `limit` (Discord shows 25 choices). */
  async suggest(typed: string, limit = 25): Promise<string[]> {
    const grids = await this.deps.store.gridSymbols();
    const all = [...new Set([...this.deps.market, ...grids])].sort();
    const t = typed.toUpperCase();
    return all.filter((s) => s.includes(t)).slice(0, limit);
  }
}
