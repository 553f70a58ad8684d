import {
  Dec,
  decText,
  floorToStep,
  isMultipleOf,
  MoneyError,
  parseDecimal,
  priceText,
  roundToStep,
  toPriceUnits,
} from '../money.js';
import { err, ok, type Result } from '../result.js';
import { type GridMode, type GridParams, MAX_GRIDS, MIN_GRIDS } from './params.js';

export interface GridError {
  readonly kind: 'invalid-grid';
  /** One line that names the figures, fit for a CLI, a chat reply or an HTTP error. */
  readonly message: string;
}

const invalid = (message: string): GridError => ({ kind: 'invalid-grid', message });

/**
 * What trailing up needs beyond the grid's own lines (docs/grid-rules.md, "Trailing up"): rule 1 for any line index,
 * the cap, and the instrument's minimums that a cell added by a shift must meet.
 */
export interface TrailingPlan {
  /** C in price units: the window's top line never goes above it. Null: no cap. */
  readonly cap: number | null;
  readonly lower: string;
  readonly upper: string;
  readonly mode: GridMode;
  readonly tick: string;
  readonly minQty: string;
  readonly minValue: string;
}

/** The lines of a grid, fixed before any price is seen. */
export interface GridLines {
  /** p_0..p_N in price units, strictly increasing, each on the tick. */
  readonly lines: readonly number[];
  readonly tickUnits: number;
  readonly stopLoss: number | null;
  readonly takeProfit: number | null;
  /** T0 in price units: the grid waits for it, then starts at it. Null: the grid starts at the first price. */
  readonly trigger: number | null;
  /** Null for a grid that does not trail. */
  readonly trailing: TrailingPlan | null;
}

/** A grid ready to trade from a start price P0. */
export interface GridPlan extends GridLines {
  readonly grids: number;
  readonly startPrice: number;
  /** Quantity per grid q, in lots of the quantity step. */
  readonly qtyLots: number;
  readonly qtyStep: string;
  /** k: the line nearest P0 (lower index on a tie). Cells 0..k-1 start with quote, k..N-1 with base. */
  readonly gapLine: number;
  readonly investment: string;
  readonly makerFee: string;
  readonly takerFee: string;
}

function parseField(text: string | undefined, what: string): Dec {
  if (text === undefined) throw new MoneyError(`${what} is missing`);
  return parseDecimal(text, what);
}

/** Lines p_i (arithmetic L + i(U-L)/N, geometric L(U/L)^(i/N)), each rounded half up to the tick. */
export function planLines(params: GridParams): Result<GridLines, GridError> {
  try {
    const { grids: n } = params;
    if (!Number.isInteger(n) || n < MIN_GRIDS || n > MAX_GRIDS) {
      return err(invalid(`grid count must be a whole number from ${MIN_GRIDS} to ${MAX_GRIDS}, got ${n}`));
    }
    const lower = parseField(params.lower, 'lower');
    const upper = parseField(params.upper, 'upper');
    const tick = parseField(params.instrument.tickSize, 'tick size');
    if (tick.isZero()) return err(invalid('tick size must be above 0'));
    if (lower.isZero()) return err(invalid('lower must be above 0'));
    if (lower.gte(upper)) {
      return err(invalid(`lower ${decText(lower)} must be below upper ${decText(upper)}`));
    }
    const tickUnits = toPriceUnits(tick, 'tick size');
    const lines: number[] = [];
    const ratio = upper.div(lower);
    const step = upper.minus(lower).div(n);
    for (let i = 0; i <= n; i++) {
      const exact =
        i === 0
          ? lower
          : i === n
            ? upper
            : params.mode === 'geometric'
              ? lower.times(ratio.pow(new Dec(i).div(n)))
              : lower.plus(step.times(i));
      lines.push(toPriceUnits(roundToStep(exact, tick), `line ${i}`));
    }
    for (let i = 0; i < n; i++) {
      if (lines[i]! >= lines[i + 1]!) {
        return err(
          invalid(
            `grid too fine for tick ${decText(tick)}: lines ${i} and ${i + 1} both round to ${priceText(lines[i]!)}; use fewer grids or a wider range`,
          ),
        );
      }
    }
    const stop = (text: string | undefined, what: string): number | null => {
      if (text === undefined) return null;
      const value = parseDecimal(text, what);
      if (!isMultipleOf(value, tick)) {
        throw new MoneyError(`${what} ${decText(value)} is not a multiple of the tick ${decText(tick)}`);
      }
      return toPriceUnits(value, what);
    };
    const stopLoss = stop(params.stopLoss, 'stop-loss');
    const takeProfit = stop(params.takeProfit, 'take-profit');
    if (stopLoss !== null && stopLoss === 0) return err(invalid('stop-loss must be above 0'));
    const trigger = stop(params.trigger, 'trigger price');
    if (trigger !== null && trigger === 0) return err(invalid('trigger price must be above 0'));
    const cap = stop(params.trailingCap, 'trailing cap');
    if (cap !== null && !params.trailingUp) {
      return err(invalid(`trailing cap ${priceText(cap)} given without trailing up`));
    }
    if (cap !== null && cap <= lines[n]!) {
      return err(invalid(`trailing cap ${priceText(cap)} must be above upper ${priceText(lines[n]!)}`));
    }
    const trailing: TrailingPlan | null = params.trailingUp
      ? {
          cap,
          lower: decText(lower),
          upper: decText(upper),
          mode: params.mode,
          tick: decText(tick),
          minQty: decText(parseField(params.instrument.minQty, 'minimum quantity')),
          minValue: decText(parseField(params.instrument.minValue, 'minimum order value')),
        }
      : null;
    return ok({ lines, tickUnits, stopLoss, takeProfit, trigger, trailing });
  } catch (e) {
    if (e instanceof MoneyError) return err(invalid(e.message));
    throw e;
  }
}

/** k: the line nearest the price, the lower index on a tie. */
export function nearestLine(lines: readonly number[], price: number): number {
  let lo = 0;
  let hi = lines.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid + 1]! <= price) lo = mid + 1;
    else hi = mid;
  }
  // lo is the last line <= price (or 0): the answer is lo or lo + 1.
  const next = lines[lo + 1];
  if (next !== undefined && lines[lo]! <= price && next - price < price - lines[lo]!) return lo + 1;
  return lo;
}

/**
 * Everything a grid needs to trade, from its parameters and the first price it sees. A grid with a trigger starts at
 * its trigger price (P0 = T0) whatever the first price, so it is planned, and refused, at T0.
 */
export function planGrid(params: GridParams, firstPrice: number): Result<GridPlan, GridError> {
  const linesResult = planLines(params);
  if (!linesResult.ok) return linesResult;
  const gridLines = linesResult.value;
  try {
    const startPrice = gridLines.trigger ?? firstPrice;
    const p0 = priceText(startPrice);
    const startWord = gridLines.trigger === null ? 'start price' : 'trigger price';
    if (startPrice <= 0) return err(invalid(`start price must be above 0, got ${p0}`));
    const { stopLoss, takeProfit, lines } = gridLines;
    if (stopLoss !== null && stopLoss >= startPrice) {
      return err(invalid(`stop-loss ${priceText(stopLoss)} must be below the ${startWord} ${p0}`));
    }
    if (takeProfit !== null && takeProfit <= startPrice) {
      return err(invalid(`take-profit ${priceText(takeProfit)} must be above the ${startWord} ${p0}`));
    }
    const investment = parseField(params.investment, 'investment');
    const qtyStep = parseField(params.instrument.qtyStep, 'quantity step');
    const minQty = parseField(params.instrument.minQty, 'minimum quantity');
    const minValue = parseField(params.instrument.minValue, 'minimum order value');
    parseField(params.makerFee, 'maker fee');
    parseField(params.takerFee, 'taker fee');
    if (qtyStep.isZero()) return err(invalid('quantity step must be above 0'));
    const n = params.grids;
    const qty = floorToStep(investment.div(n).div(new Dec(p0)), qtyStep);
    const qtyLots = qty.div(qtyStep).toNumber();
    if (!Number.isSafeInteger(qtyLots)) return err(invalid('quantity per grid is out of range'));
    if (qty.lt(minQty) || qty.isZero()) {
      return err(
        invalid(
          `quantity per grid ${decText(qty)} (investment ${decText(investment)} / ${n} grids / ${startWord} ${p0}, rounded down to step ${decText(qtyStep)}) is below the minimum quantity ${decText(minQty)}`,
        ),
      );
    }
    const lowestValue = qty.times(new Dec(priceText(lines[0]!)));
    if (lowestValue.lt(minValue)) {
      return err(
        invalid(
          `order value at the lowest line ${decText(qty)} x ${priceText(lines[0]!)} = ${decText(lowestValue)} is below the minimum order value ${decText(minValue)}`,
        ),
      );
    }
    return ok({
      ...gridLines,
      grids: n,
      startPrice,
      qtyLots,
      qtyStep: decText(qtyStep),
      gapLine: nearestLine(lines, startPrice),
      investment: decText(investment),
      makerFee: params.makerFee,
      takerFee: params.takerFee,
    });
  } catch (e) {
    if (e instanceof MoneyError) return err(invalid(e.message));
    throw e;
  }
}
