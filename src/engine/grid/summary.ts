import { Dec, decText } from '../money.js';
import type { GridState } from './state.js';

/** The figures a grid shows, derived from its state: exact decimal strings. */
export interface GridFigures {
  readonly baseQty: string;
  /** Sum over the base held of quantity x entry price. */
  readonly baseCost: string;
  readonly quoteBalance: string;
  readonly realizedPnl: string;
  readonly fees: string;
  readonly openOrders: number;
}

export function gridFigures(state: GridState): GridFigures {
  const step = state.plan?.qtyStep ?? state.params.instrument.qtyStep;
  let costUnits = new Dec(0);
  let openOrders = 0;
  for (const cell of [...state.cells, ...(state.trail?.leaving ?? [])]) {
    for (const lot of cell.base) costUnits = costUnits.plus(new Dec(lot.entry).times(lot.lots));
    if (cell.order && !cell.order.cancelling) openOrders++;
  }
  if (state.startOrder && !state.startOrder.cancelling) openOrders++;
  if (state.exitOrder) openOrders++;
  return {
    baseQty: decText(new Dec(step).times(state.ledger.baseLots).plus(state.ledger.dust)),
    baseCost: decText(costUnits.times(step).div(1e8).plus(state.ledger.dustCost)),
    quoteBalance: state.ledger.quote,
    realizedPnl: state.ledger.gridProfit,
    fees: state.ledger.fees,
    openOrders,
  };
}
