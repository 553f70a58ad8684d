import type { Level } from '../../engine/risk/rules.js';
import type { KillSwitchReader } from './kill-switch.js';

export interface KillState {
  readonly killed: boolean;
  readonly killedAt: string | null;
  readonly trigger: string | null;
  readonly figures: unknown;
  readonly lastIncident: Incident | null;
}

export interface Incident {
  readonly id: string;
  readonly at: string;
  readonly trigger: string;
  readonly actor: string;
  readonly figures: unknown;
  readonly ordersOpenBefore: number;
  readonly ordersOpenAfter: number;
  readonly gridsStopped: number;
  readonly durationMs: number;
  readonly outcome: 'all-cancelled' | 'exchange-unreachable' | 'orders-left';
  /** 'off', or what the optional sell-off of base did ('3 grids sold at market', 'skipped: ...'). */
  readonly sellOff: string;
}

/** An incident as the kill writes it: the store gives it its id and time. */
export type NewIncident = Omit<Incident, 'id' | 'at'>;

/**
 * The kill switch's record in Postgres, the source of truth (a restart stays killed), and what a kill works through.
 * Turning it on and off are claims: each succeeds for one caller only.
 */
export interface KillSwitchStore {
  /** The state and the latest incident; off, with nulls, when nothing was ever recorded. */
  state(): Promise<KillState>;
  /** Turns the switch on; false when it already was (someone else's kill is under way or done). */
  claimKill(trigger: string, figures: unknown): Promise<boolean>;
  /** Turns the switch off, recording who did; false when it was not on. */
  claimReset(by: string): Promise<boolean>;
  recordIncident(incident: NewIncident): Promise<Incident>;
  /** The grids a kill stops: every one created, running or paused. */
  gridsToStop(): Promise<string[]>;
  /** Of `ids`, the stopped grids that still hold base, in id order. */
  stoppedHoldingBase(ids: readonly string[]): Promise<string[]>;
  /** Orders placed on the exchange whose cancel was asked: each is confirmed to its grid once it can no longer fill. */
  cancelsToConfirm(): Promise<string[]>;
}

/**
 * The copy of the switch every placement reads: cheap, in Redis, set from the KillSwitchStore at start and by the
 * kill switch as it turns. As a KillSwitchReader it can be handed to what places orders before the kill switch (which
 * drives them) is built.
 */
export interface KillFlag extends KillSwitchReader {
  set(on: boolean): Promise<void>;
}

export interface RiskFigures {
  readonly at: string;
  readonly equity: string;
  readonly peak: string;
  readonly drawdownPct: string;
  readonly drawdownLevel: Level;
  readonly errorRatePct: string;
  readonly calls: number;
  readonly failedCalls: number;
  /** Retries the calls needed: reported beside the rate, not counted in it. */
  readonly retries: number;
  readonly failuresByReason: Readonly<Record<string, number>>;
  readonly errorRateLevel: Level;
  readonly breakers: readonly string[];
  readonly volatilityLevel: Level;
}

/** What the price check of a symbol judges a new price against. */
export interface PriceCheckState {
  /** The last admitted price. */
  readonly previous: string | null;
  /** A price held for confirmation. */
  readonly held: string | null;
  /** What the second source said, while it is fresh. */
  readonly reference: string | null;
}

/**
 * The risk figures shared by every process of one database (Redis, under the database's scope): the price checks,
 * the volatility windows and breakers, the drawdown peak, the latest figures, and which warnings were said.
 */
export interface RiskFigureStore {
  noteReferences(prices: readonly { symbol: string; price: string }[], ttlMs: number): Promise<void>;
  priceCheck(symbol: string): Promise<PriceCheckState>;
  holdPrice(symbol: string, price: string, ttlMs: number): Promise<void>;
  /**
   * The price becomes the last admitted one, nothing stays held, and the warnings named `endsWarnings` (the symbol's
   * held-price warnings) are over, so the next hold is a new one.
   */
  admitPrice(symbol: string, price: string, endsWarnings: readonly string[]): Promise<void>;
  /** Appends a price to the symbol's volatility window, kept to its last `window` prices; returns the window. */
  pushPrice(symbol: string, price: string, window: number): Promise<string[]>;
  /**
   * Keeps the breaker tripped until `untilMs`. A breaker that was calm at `nowMs` starts a new episode: the warning
   * `warning` is over, so this trip is said again.
   */
  tripBreaker(symbol: string, untilMs: number, nowMs: number, warning: string): Promise<void>;
  /** The symbols whose breaker is still tripped at `nowMs`. */
  trippedSymbols(nowMs: number): Promise<string[]>;
  peak(): Promise<string | null>;
  setPeak(peak: string): Promise<void>;
  saveLatest(figures: RiskFigures): Promise<void>;
  latest(): Promise<RiskFigures | null>;
  /**
   * Records that `what` is at `level`. Returns the id of the episode to announce when the level changed to one worth
   * a warning, or when such a change was recorded but never announced (its announcer died, or is announcing it now);
   * null when there is nothing to say. The id is drawn once per episode, so every caller announces it under the same
   * notification key, and a later episode gets a new one.
   */
  raiseWarning(what: string, level: Level): Promise<string | null>;
  /** The episode was announced: `raiseWarning` stops returning it. */
  warningAnnounced(what: string, episode: string): Promise<void>;
}

/** The book the drawdown is measured on, and the figures' history (Postgres). */
export interface RiskBook {
  /** Every grid's symbol, quote balance and base quantity (decimal strings). */
  holdings(): Promise<{ symbol: string; quoteBalance: string; baseQty: string }[]>;
  recordSnapshot(level: Level, figures: RiskFigures): Promise<void>;
}

export interface PreTradeBook {
  readonly grids: ReadonlyMap<string, { status: string; stop_loss: string | null }>;
  readonly openBySymbol: ReadonlyMap<string, number>;
  readonly positions: ReadonlyMap<string, string>;
}

/** What the pre-trade rules read from Postgres. */
export interface PreTradeReads {
  /**
   * The grids of `gridIds` (status, stop-loss), and only when asked the open orders per symbol and the positions:
   * one round trip.
   */
  book(gridIds: readonly string[], want: { counts: boolean; positions: boolean }): Promise<PreTradeBook>;
  /** BTC's close `lookbackMs` ago and its latest close, from the stored 1-minute candles; null without both. */
  btcCloses(lookbackMs: number): Promise<readonly [string, string] | null>;
}

/** The latest price of each symbol (the price cache). */
export interface LatestPrices {
  all(): Promise<readonly { symbol: string; price: string }[]>;
}

export interface CallStats {
  readonly total: number;
  readonly ok: number;
  readonly failed: number;
  /** Retries that the calls above needed (a retried call that then succeeded counts as ok, not failed). */
  readonly retries: number;
  /** Failures by kind and reason, e.g. "ambiguous:timeout", "rejected:insufficient-balance", "rate-limited". */
  readonly byReason: Readonly<Record<string, number>>;
}

export interface CallOutcome {
  readonly ok: boolean;
  readonly reason: string | null;
  readonly retries?: number;
}

/** The exchange's error rate as the risk rules read it. */
export interface CallStatsReader {
  /** Every call counted over the last `windowMs`, by every process of the installation. */
  read(windowMs: number): Promise<CallStats>;
}

/** Where every exchange call's outcome is counted. */
export interface CallStatsStore extends CallStatsReader {
  add(outcome: CallOutcome): Promise<void>;
}
