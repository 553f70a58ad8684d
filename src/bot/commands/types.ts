import type { Actor } from '../../app/actor.js';
import type { Backtests } from '../../app/backtest.js';
import type { GridService } from '../../app/grid-service.js';
import type { AuditLog } from '../../app/ports/audit.js';
import type { Confirmations } from '../../app/ports/confirmations.js';
import type { NotifyPrefs } from '../../app/ports/notifications.js';
import type { Reports } from '../../app/reports.js';
import type { RiskService } from '../../app/risk-service.js';
import type { SymbolSuggestions } from '../../app/symbols.js';
import type { Views } from '../../app/views.js';
import type { MarketInstrument } from '../../exchange/exchange.js';
import type { CoinGecko } from '../../market/coingecko.js';
import type { PriceCache } from '../../market/price-cache.js';
import type { Reply } from '../reply.js';

export type Transport = 'telegram' | 'discord';

export interface ChatUser {
  readonly transport: Transport;
  readonly userId: string;
  readonly name?: string;
}

/** What the commands may use: the app's services and ports, and settings; never a connection or a queue. */
export interface ChatDeps {
  readonly grids: GridService;
  readonly risk: RiskService;
  readonly views: Views;
  readonly reports: Reports;
  readonly backtests: Backtests;
  readonly symbols: SymbolSuggestions;
  readonly market: Pick<CoinGecko, 'topMovers' | 'trending'>;
  readonly prices: Pick<PriceCache, 'all'>;
  readonly instrument: (symbol: string) => MarketInstrument | undefined;
  readonly prefs: NotifyPrefs;
  /** Every command attempt is recorded, refused ones too. */
  readonly audit: AuditLog;
  /** Destructive commands wait here for their asker's Confirm. */
  readonly confirmations: Confirmations;
  readonly mode: string;
  readonly version: string;
  /** Who may do what: operators act, read-only users look; anyone else is refused. */
  readonly roles: Record<
    Transport,
    { readonly operators: readonly string[]; readonly readonly: readonly string[] }
  >;
  readonly nowMs: () => number;
  /** How long a confirmation button stays valid. */
  readonly confirmTtlMs?: number;
}

export type ArgKind = 'symbol' | 'grid' | 'integer' | 'decimal' | 'word';

export interface ArgSpec {
  readonly name: string;
  readonly description: string;
  readonly kind: ArgKind;
  readonly required: boolean;
  readonly choices?: readonly string[];
}

export interface CommandSpec {
  readonly name: string;
  readonly description: string;
  readonly example: string;
  readonly args: readonly ArgSpec[];
  /** 'read' commands are open to read-only users; 'operate' ones need an operator. */
  readonly access: 'read' | 'operate';
  /** Destructive: answered with a confirmation only the asker can press, valid for a minute. */
  readonly confirm?: (ctx: CommandContext, args: readonly string[]) => Promise<Reply | { prompt: Reply }>;
  readonly run: (ctx: CommandContext, args: readonly string[]) => Promise<Reply>;
}

export interface CommandContext {
  readonly actor: Actor;
  readonly user: ChatUser;
  readonly deps: ChatDeps;
}
