import type { Side } from './grid/state.js';

/** An order resting on a simulated book: a limit at a price with the lots still open. */
export interface RestingOrder {
  readonly clientOrderId: string;
  readonly side: Side;
  readonly price: number;
  readonly lots: number;
}

/**
 * What one monotone segment of the price path from `from` to `to` fills: every resting limit of `side` whose price
 * lies in [low, high] (both ends included), each at its own price, met in `order` (a fall meets the highest buy
 * first, a rise the lowest sell). A segment that does not move fills nothing.
 */
export interface SegmentCross<P> {
  readonly side: Side;
  readonly low: P;
  readonly high: P;
  readonly order: 'price-descending' | 'price-ascending';
}

/**
 * The fill model's decision for a segment, over any price type with its comparison (`cmp(a, b)` < 0 when a < b): the
 * backtester's reference walks numbers through matchSegment below, the paper exchange puts decimal prices into the
 * SQL that selects the crossed orders from its book (exchange/paper), so both decide by this one rule.
 */
export function segmentCross<P>(from: P, to: P, cmp: (a: P, b: P) => number): SegmentCross<P> | null {
  const move = cmp(to, from);
  if (move < 0) return { side: 'buy', low: to, high: from, order: 'price-descending' };
  if (move > 0) return { side: 'sell', low: from, high: to, order: 'price-ascending' };
  return null;
}

/**
 * The resting orders a segment fills, in the order the path meets them. The caller passes the book as it stood when
 * the segment began, so an order placed during a segment cannot fill on that same segment.
 *
 * Where the fill model lives: this function and segmentCross are the model. engine/backtest/reference.ts drives the
 * general engine through matchSegment; the paper exchange selects its fills by segmentCross. The backtester's loop
 * (backtest/fast.ts) is a specialisation of its own, proven equal to the reference by
 * test/unit/engine/backtest-differential.test.ts. The fake Bybit (test/fakes/bybit) models the exchange on its own;
 * test/contract/exchange.contract.ts checks that paper, and Bybit through the fake, fill what this function says.
 */
export function matchSegment(book: Iterable<RestingOrder>, from: number, to: number): RestingOrder[] {
  const cross = segmentCross(from, to, (a, b) => a - b);
  if (!cross) return [];
  const fills: RestingOrder[] = [];
  for (const o of book)
    if (o.side === cross.side && o.price >= cross.low && o.price <= cross.high) fills.push(o);
  fills.sort(cross.order === 'price-descending' ? (x, y) => y.price - x.price : (x, y) => x.price - y.price);
  return fills;
}
