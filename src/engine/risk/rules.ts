import { Dec } from '../money.js';

/**
 * The risk rules, pure: figures in, decisions out. The risk worker (src/jobs) feeds them what it measured and acts on
 * what they decide; every threshold comes from configuration. Percentages are decimal strings ('15' = 15 %), money
 * and prices decimal strings, so every figure a decision names can be explained exactly.
 */

export interface DrawdownLimits {
  /** Warn at this fall from the peak, in percent (default 15). */
  readonly warnPct: string;
  /** Kill at this fall from the peak, in percent (default 30). */
  readonly killPct: string;
}

export type Level = 'ok' | 'warn' | 'kill';

export interface DrawdownState {
  readonly peak: string;
  readonly equity: string;
  /** (peak − equity) / peak × 100, rounded to 4 decimals for display; the decision uses the exact value. */
  readonly drawdownPct: string;
  readonly level: Level;
}

/** Equity against its running peak (which the caller keeps; a new high replaces it). */
export function drawdown(previousPeak: string | null, equity: string, limits: DrawdownLimits): DrawdownState {
  const e = new Dec(equity);
  const peak = previousPeak === null || e.gt(previousPeak) ? e : new Dec(previousPeak);
  const pct = peak.isZero() ? new Dec(0) : peak.minus(e).div(peak).times(100);
  const level: Level = pct.gte(limits.killPct) ? 'kill' : pct.gte(limits.warnPct) ? 'warn' : 'ok';
  return { peak: peak.toFixed(), equity: e.toFixed(), drawdownPct: pct.toDecimalPlaces(4).toFixed(), level };
}

export interface ErrorRateLimits {
  /** Kill when failed / total reaches this, in percent (default 2). */
  readonly killPct: string;
  /** Below this many calls in the window the rate says nothing (default 20). */
  readonly minCalls: number;
}

export interface ErrorRateState {
  readonly total: number;
  readonly failed: number;
  readonly ratePct: string;
  readonly level: Level;
  /** Why the level is ok despite failures, when it is. */
  readonly note: string | null;
}

/** Failed exchange calls (after their own retries) over all calls in the window. */
export function errorRate(total: number, failed: number, limits: ErrorRateLimits): ErrorRateState {
  const ratePct = total === 0 ? new Dec(0) : new Dec(failed).div(total).times(100);
  if (total < limits.minCalls) {
    return {
      total,
      failed,
      ratePct: ratePct.toDecimalPlaces(2).toFixed(),
      level: 'ok',
      note: `only ${total} calls in the window (at least ${limits.minCalls} are needed to judge)`,
    };
  }
  return {
    total,
    failed,
    ratePct: ratePct.toDecimalPlaces(2).toFixed(),
    level: ratePct.gte(limits.killPct) ? 'kill' : 'ok',
    note: null,
  };
}

export interface VolatilityLimits {
  /** How many of the latest prices are looked at (default 10). */
  readonly window: number;
  /** Trip when a price is further than this from their average, in percent (default 5). */
  readonly maxDeviationPct: string;
}

export interface VolatilityState {
  readonly symbol: string;
  readonly average: string | null;
  readonly maxDeviationPct: string;
  readonly tripped: boolean;
}

/** Over the last `window` prices: the largest deviation from their average, as a percent of it. */
export function volatility(
  symbol: string,
  prices: readonly string[],
  limits: VolatilityLimits,
): VolatilityState {
  const recent = prices.slice(-limits.window);
  if (recent.length < limits.window) return { symbol, average: null, maxDeviationPct: '0', tripped: false };
  const values = recent.map((p) => new Dec(p));
  const average = values.reduce((a, b) => a.plus(b), new Dec(0)).div(values.length);
  const deviation = values.reduce((max, v) => Dec.max(max, v.minus(average).abs()), new Dec(0));
  const pct = deviation.div(average).times(100);
  return {
    symbol,
    average: average.toDecimalPlaces(8).toFixed(),
    maxDeviationPct: pct.toDecimalPlaces(4).toFixed(),
    tripped: pct.gt(limits.maxDeviationPct),
  };
}

/** Two or more symbols tripped at once is a market-wide event: kill (the seed design's rule). */
export function volatilityLevel(states: readonly VolatilityState[]): Level {
  const tripped = states.filter((s) => s.tripped).length;
  return tripped >= 2 ? 'kill' : tripped === 1 ? 'warn' : 'ok';
}

export interface PriceCheckLimits {
  /** A price further than this from the previous one, in percent, is held for confirmation. */
  readonly maxJumpPct: string;
  /** The WebSocket and REST may disagree by at most this, in percent. */
  readonly maxSourceGapPct: string;
}

export type PriceVerdict =
  | { readonly kind: 'accept' }
  | { readonly kind: 'hold'; readonly reason: 'jump' | 'sources-disagree'; readonly pct: string };

/**
 * A new price is traded on only if it is believable: not a jump beyond `maxJumpPct` from the previous one (unless a
 * second price confirms it), and not far from what the other source says.
 */
export function checkPrice(
  previous: string | null,
  next: string,
  limits: PriceCheckLimits,
  otherSource: string | null = null,
  confirmedBy: string | null = null,
): PriceVerdict {
  if (otherSource !== null) {
    const gap = new Dec(next).minus(otherSource).abs().div(otherSource).times(100);
    if (gap.gt(limits.maxSourceGapPct))
      return { kind: 'hold', reason: 'sources-disagree', pct: gap.toDecimalPlaces(4).toFixed() };
  }
  if (previous === null) return { kind: 'accept' };
  const jump = new Dec(next).minus(previous).abs().div(previous).times(100);
  if (jump.lte(limits.maxJumpPct)) return { kind: 'accept' };
  // A second price near the jumped one confirms the move: the market really went there.
  if (
    confirmedBy !== null &&
    new Dec(confirmedBy).minus(next).abs().div(next).times(100).lte(limits.maxJumpPct)
  ) {
    return { kind: 'accept' };
  }
  return { kind: 'hold', reason: 'jump', pct: jump.toDecimalPlaces(4).toFixed() };
}

/** BTC's move over the lookback (e.g. 60 minutes), in percent: the first and the last price of the window. */
export function changePct(first: string, last: string): string {
  return new Dec(last).minus(first).div(first).times(100).toDecimalPlaces(4).toFixed();
}
