import { Dec, decText, MoneyError, priceDec, priceText, roundToStep, toPriceUnits } from '../money.js';
import type { GridPlan } from './plan.js';

/**
 * The rules of trailing up (docs/grid-rules.md, "Trailing up") that the engine step() and the backtester's loop both
 * apply, so that a shift is decided by one piece of code: the lines past the grid, the quantity of a cell a shift adds,
 * and when a shift is refused (which ends trailing for good).
 */

/**
 * Line i for any i ≥ 0: the grid's own line for i ≤ N, else rule 1 carried past U, rounded half up to the tick. Null
 * when the line is past the prices the engine can hold (no shift can reach it).
 */
export function lineAt(plan: Pick<GridPlan, 'lines' | 'grids' | 'trailing'>, i: number): number | null {
  const own = plan.lines[i];
  if (own !== undefined) return own;
  const t = plan.trailing;
  if (!t) return null;
  const lower = new Dec(t.lower);
  const upper = new Dec(t.upper);
  const exact =
    t.mode === 'geometric'
      ? lower.times(upper.div(lower).pow(new Dec(i).div(plan.grids)))
      : lower.plus(upper.minus(lower).times(i).div(plan.grids));
  try {
    return toPriceUnits(roundToStep(exact, new Dec(t.tick)), `line ${i}`);
  } catch (e) {
    if (e instanceof MoneyError) return null;
    throw e;
  }
}

/**
 * q' in lots: the released quote R = q_a · line a buys floor(R / line(a+N)) at the new top cell's line, rounded down to
 * the quantity step. Integers all the way (BigInt: the product can pass 2^53).
 */
export function shiftedLots(lowLots: number, lowLine: number, topLine: number): number {
  return Number((BigInt(lowLots) * BigInt(lowLine)) / BigInt(topLine));
}

export type TrailingEndReason = 'cap' | 'min-qty' | 'min-value' | 'range';

export interface TrailingEnd {
  readonly reason: TrailingEndReason;
  /** One line naming the figures, for a note and the operator. */
  readonly message: string;
}

/**
 * Why the shift now due may not happen, or null when it may: the window's new top line (line a+N+1) above the cap, or
 * the new cell's quantity q' below the minimum quantity, or its order value q' · line(a+N) below the minimum order value.
 * A cell must also keep at least one quantity step once its buy's maker fee is taken in the coin (as Bybit spot takes
 * it), else it would have nothing to sell; that counts as below the minimum quantity. `next` is null (or not above
 * the top line) only for a line the engine cannot hold or a window finer than the tick: trailing ends there too.
 */
export function shiftRefusal(
  plan: Pick<GridPlan, 'trailing' | 'qtyStep' | 'makerFee'>,
  newLots: number,
  topLine: number,
  next: number | null,
): TrailingEnd | null {
  const t = plan.trailing!;
  if (next === null || next <= topLine) {
    return {
      reason: 'range',
      message: `trailing up ended: no line above ${priceText(topLine)} can be traded`,
    };
  }
  if (t.cap !== null && next > t.cap) {
    return {
      reason: 'cap',
      message: `trailing up ended: the next top line ${priceText(next)} would be above the cap ${priceText(t.cap)}`,
    };
  }
  const step = new Dec(plan.qtyStep);
  const qty = step.times(newLots);
  if (qty.lt(t.minQty) || qty.isZero()) {
    return {
      reason: 'min-qty',
      message: `trailing up ended: a new cell at ${priceText(topLine)} would buy ${decText(qty)}, below the minimum quantity ${t.minQty}`,
    };
  }
  if (new Dec(newLots).times(new Dec(1).minus(plan.makerFee)).lt(1)) {
    return {
      reason: 'min-qty',
      message: `trailing up ended: a new cell at ${priceText(topLine)} would buy ${decText(qty)}, less than one step ${decText(step)} once its fee is taken`,
    };
  }
  const value = qty.times(priceDec(topLine));
  if (value.lt(t.minValue)) {
    return {
      reason: 'min-value',
      message: `trailing up ended: a new cell's order ${decText(qty)} x ${priceText(topLine)} = ${decText(value)} is below the minimum order value ${t.minValue}`,
    };
  }
  return null;
}
