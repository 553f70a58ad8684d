import type { Side } from './grid/state.js';

/** An order resting on a simulated book: a limit at a price with the lots still open. */
export interface RestingOrder {
  readonly clientOrderId: string;
  readonly side: Side;
  readonly price: number;
  readonly lots: number;
}

/**
 * The fill model shared by the backtester and the paper exchange. On a monotone segment of the price path from a to b:
 * if b < a, every resting buy with b ≤ price ≤ a fills at its own price; if b > a, every resting sell with
 * a ≤ price ≤ b. Fills come in the order the path meets them. The caller passes the book as it stood when the segment
 * began, so an order placed during a segment cannot fill on that same segment.
 */
export function matchSegment(book: Iterable<RestingOrder>, from: number, to: number): RestingOrder[] {
  const fills: RestingOrder[] = [];
  if (to < from) {
    for (const o of book) if (o.side === 'buy' && o.price >= to && o.price <= from) fills.push(o);
    fills.sort((x, y) => y.price - x.price);
  } else if (to > from) {
    for (const o of book) if (o.side === 'sell' && o.price >= from && o.price <= to) fills.push(o);
    fills.sort((x, y) => x.price - y.price);
  }
  return fills;
}
