import type { GridPlan } from '../grid/plan.js';
import { Dec, decText } from '../money.js';
import { err, ok, type Result } from '../result.js';

/**
 * Where a backtest takes the fee of a buy: in quote on top of the notional (the engine issue's figures), or in the
 * base coin as Bybit spot does (the buy then delivers its quantity less the fee; sells always pay in quote).
 */
export type BuyFeeIn = 'quote' | 'base';

/** What the buys deliver to the cells, in lots, when the fee comes out of the coin. */
export interface BuyDelivery {
  /** Whole lots a grid buy of q leaves its cell, which is what the cell sells: q, or floor(q·(1 − maker)). */
  readonly gridLots: number;
  /** The fraction of a lot left over by each grid buy: the grid's dust (0 with fees in quote). */
  readonly gridDustLots: Dec;
  /** Lots each start cell holds after the start buy (cells k..N−1; cells below k are 0). */
  readonly startLots: readonly number[];
  /** The fraction of a lot the start buy leaves over. */
  readonly startDustLots: Dec;
}

/**
 * The lots each buy delivers, by the engine's rule (step.ts): a buy of n lots with its fee f in base delivers n − f/step,
 * whole lots go to the cell and the fraction is dust; the start buy's whole lots fill the start cells in order, q each.
 * Refused when a cell would end up with nothing to sell: the grid could not trade as the rules say (the cell would
 * buy again at once, above the market), so the figures would mean nothing.
 */
export function buyDelivery(plan: GridPlan, buyFeeIn: BuyFeeIn): Result<BuyDelivery, string> {
  const n = plan.grids;
  const q = plan.qtyLots;
  const k = plan.gapLine;
  const startLots = Array.from({ length: n }, (_, c) => (c >= k ? q : 0));
  if (buyFeeIn === 'quote') {
    return ok({ gridLots: q, gridDustLots: new Dec(0), startLots, startDustLots: new Dec(0) });
  }
  const step = new Dec(plan.qtyStep);
  const gridNet = new Dec(q).minus(new Dec(q).times(plan.makerFee));
  const gridLots = gridNet.floor().toNumber();
  if (gridLots < 1) {
    return err(
      `with buy fees in base, a grid buy of ${decText(step.times(q))} less its fee (${decText(step.times(q).times(plan.makerFee))}) leaves less than one quantity step ${decText(step)} to sell; invest more per grid`,
    );
  }
  const startTotal = new Dec(q).times(n - k);
  const startNet = startTotal.minus(startTotal.times(plan.takerFee));
  let left = startNet.floor().toNumber();
  for (let c = k; c < n; c++) {
    startLots[c] = Math.min(left, q);
    left -= startLots[c]!;
    if (startLots[c] === 0) {
      return err(
        `with buy fees in base, the start buy's fee (${decText(step.times(startTotal).times(plan.takerFee))}) leaves the cell at line ${c} with nothing to sell; use fewer grids or a lower taker fee`,
      );
    }
  }
  return ok({
    gridLots,
    gridDustLots: gridNet.minus(gridLots),
    startLots,
    startDustLots: startNet.minus(startNet.floor()),
  });
}
