import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { matchSegment, type RestingOrder } from '../../src/engine/matching.js';
import { Dec, decText, toPriceUnits } from '../../src/engine/money.js';
import {
  type Exchange,
  ExchangeError,
  type Execution,
  type PlaceOrderRequest,
  type PlaceOutcome,
} from '../../src/exchange/exchange.js';

/**
 * One exchange under test, fresh for each test: an empty book on BTCUSDT (tick 0.01, step 0.000001, minimum order
 * value 5 USDT), the market at `startPrice`, and an account holding enough USDT and BTC for the orders below.
 */
export interface ExchangeHarness {
  readonly exchange: Exchange;
  readonly symbol: string;
  readonly baseAsset: string;
  readonly quoteAsset: string;
  readonly startPrice: string;
  /** The fee rate of a resting (maker) fill. */
  readonly makerFee: string;
  /**
   * How executionsAfter reads its cursor. 'after': strictly after (paper: a sequence number). 'at-or-after': the
   * executions of the cursor's own instant come back again (Bybit: the cursor is an execution time in ms, and the
   * caller recognises repeats by execId).
   */
  readonly cursor: 'after' | 'at-or-after';
  /**
   * Moves the market to `price` along the path from the last price (paper: its price input; Bybit: the fake's
   * market), and resolves once the exchange has reported the executions the move made to its listeners.
   */
  movePrice(price: string): Promise<void>;
  /**
   * Places an order whose answer is lost after the exchange acted on it (paper: the result dropped on its way back;
   * Bybit: the fake answers 503 after processing). Resolves with what the caller got, or rejects with what it threw.
   */
  placeLosingAnswer(request: PlaceOrderRequest): Promise<PlaceOutcome>;
  close(): Promise<void>;
}

/**
 * The behaviour every exchange behind src/exchange/exchange.ts must show, run against the paper exchange on Postgres
 * (test/integration/exchange-contract-paper.test.ts) and Bybit through the fake
 * (test/integration/exchange-contract-bybit.test.ts). What the grid layer's exactly-once argument leans on: one order
 * per client order id, typed refusals, each execution once with its fee coin, an ambiguous placement settled by
 * lookup, and fills exactly as the engine's fill model (src/engine/matching.ts) says.
 */
export function describeExchangeContract(name: string, setup: () => Promise<ExchangeHarness>): void {
  describe(`exchange contract: ${name}`, () => {
    let h: ExchangeHarness;
    /** Every execution the exchange pushed to a listener, in the order pushed. */
    let pushed: Execution[];

    beforeEach(async () => {
      h = await setup();
      pushed = [];
      h.exchange.onExecutions((executions) => {
        pushed.push(...executions);
      });
    });
    afterEach(async () => {
      await h?.close();
    });

    const limit = (
      clientOrderId: string,
      side: 'buy' | 'sell',
      price: string,
      qty = '0.001',
    ): PlaceOrderRequest => ({ symbol: h.symbol, clientOrderId, side, type: 'limit', price, qty });

    const placed = async (request: PlaceOrderRequest): Promise<void> => {
      expect(await h.exchange.placeOrder(request), request.clientOrderId).toMatchObject({ kind: 'placed' });
    };

    const openIds = async () => (await h.exchange.openOrders(h.symbol)).map((o) => o.clientOrderId);

    it('a client order id placed twice leaves one order: the second placement is recognised', async () => {
      const order = limit('c1-0-1', 'buy', '99000');
      const first = await h.exchange.placeOrder(order);
      expect(first).toMatchObject({ kind: 'placed' });
      const again = await h.exchange.placeOrder(order);
      expect(again).toEqual({
        kind: 'already-placed',
        exchangeOrderId: (first as { exchangeOrderId: string }).exchangeOrderId,
        status: 'open',
      });
      expect(await openIds()).toEqual(['c1-0-1']);
      expect(await h.exchange.getOrder('c1-0-1')).toMatchObject({
        clientOrderId: 'c1-0-1',
        side: 'buy',
        type: 'limit',
        price: '99000',
        qty: '0.001',
        filled: '0',
        status: 'open',
      });
    });

    it('refuses an off-tick price and an order below the minimum as typed rejections, leaving nothing open', async () => {
      expect(await h.exchange.placeOrder(limit('c2-0-1', 'buy', '99000.005'))).toMatchObject({
        kind: 'rejected',
        reason: 'off-tick',
      });
      // 0.001 BTC at 1,000 is worth 1 USDT, under the minimum order value of 5.
      expect(await h.exchange.placeOrder(limit('c2-0-2', 'buy', '1000'))).toMatchObject({
        kind: 'rejected',
        reason: 'below-minimum',
      });
      expect(await openIds()).toEqual([]);
    });

    it('answers a cancel of an unknown id, and of an order already cancelled, with a typed outcome', async () => {
      expect(await h.exchange.cancelOrder(h.symbol, 'never-placed')).toEqual({ kind: 'unknown' });
      await placed(limit('c3-0-1', 'buy', '99000'));
      expect(await h.exchange.cancelOrder(h.symbol, 'c3-0-1')).toEqual({ kind: 'cancelled' });
      expect(await h.exchange.cancelOrder(h.symbol, 'c3-0-1')).toEqual({
        kind: 'not-open',
        status: 'cancelled',
      });
      expect(await openIds()).toEqual([]);
    });

    it('reports each execution once, to the listeners and in executionsAfter alike, with its fee coin', async () => {
      await placed(limit('c4-0-1', 'buy', '99000'));
      await placed(limit('c4-1-1', 'sell', '101000', '0.002'));
      await h.movePrice('98900');
      await h.movePrice('101100');

      const listed = await h.exchange.executionsAfter(null, 100);
      const ids = listed.map((e) => e.execId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(pushed.map((e) => e.execId)).toEqual(ids);
      expect(pushed).toEqual(listed);

      const [buy, sell] = listed;
      // Spot fees (protocols.md 1.7): a buy pays in the base coin it receives, a sell in the quote; maker rate here.
      expect(buy).toMatchObject({
        clientOrderId: 'c4-0-1',
        side: 'buy',
        price: '99000',
        qty: '0.001',
        isMaker: true,
        feeCurrency: h.baseAsset,
      });
      expect(new Dec(buy!.fee).eq(new Dec('0.001').times(h.makerFee)), `buy fee ${buy!.fee}`).toBe(true);
      expect(sell).toMatchObject({
        clientOrderId: 'c4-1-1',
        side: 'sell',
        price: '101000',
        qty: '0.002',
        isMaker: true,
        feeCurrency: h.quoteAsset,
      });
      expect(new Dec(sell!.fee).eq(new Dec('202').times(h.makerFee)), `sell fee ${sell!.fee}`).toBe(true);

      // The cursor: nothing before it comes back; its own instant comes back only where the exchange says so.
      const afterFirst = (await h.exchange.executionsAfter(buy!.cursor, 100)).map((e) => e.execId);
      const afterLast = (await h.exchange.executionsAfter(sell!.cursor, 100)).map((e) => e.execId);
      if (h.cursor === 'after') {
        expect(afterFirst).toEqual([sell!.execId]);
        expect(afterLast).toEqual([]);
      } else {
        expect(afterFirst).toEqual([buy!.execId, sell!.execId]);
        expect(afterLast).toEqual([sell!.execId]);
      }
    });

    it('settles a placement whose answer was lost by looking the client order id up', async () => {
      const order = limit('c5-0-1', 'buy', '98000');
      const answer = await h.placeLosingAnswer(order).catch((e: unknown) => e);
      if (answer instanceof Error) {
        // The caller cannot know whether the order exists: an ambiguous failure, never a refusal.
        expect(answer).toBeInstanceOf(ExchangeError);
        expect((answer as ExchangeError).failure.kind).toBe('ambiguous');
        expect((answer as ExchangeError).retryable).toBe(true);
      } else {
        // An exchange may settle it itself, by the same lookup.
        expect(answer).toMatchObject({ kind: 'already-placed', status: 'open' });
      }
      expect(await h.exchange.getOrder('c5-0-1')).toMatchObject({
        clientOrderId: 'c5-0-1',
        side: 'buy',
        price: '98000',
        qty: '0.001',
        status: 'open',
      });
      // The retry under the same id is recognised: still one order.
      expect(await h.exchange.placeOrder(order)).toMatchObject({ kind: 'already-placed', status: 'open' });
      expect(await openIds()).toEqual(['c5-0-1']);
    });

    it('fills a price path over resting orders exactly as the engine’s fill model says', async () => {
      const requests = [
        limit('c6-0-1', 'buy', '97000'),
        limit('c6-1-1', 'buy', '98000'),
        limit('c6-2-1', 'buy', '98500'),
        limit('c6-3-1', 'buy', '99000.5'),
        limit('c6-4-1', 'sell', '101000', '0.002'),
        limit('c6-5-1', 'sell', '101500'),
        limit('c6-6-1', 'sell', '101800'),
        limit('c6-7-1', 'sell', '102000.25'),
      ];
      for (const r of requests) await placed(r);
      const byId = new Map(requests.map((r) => [r.clientOrderId, r]));
      const book = new Map<string, RestingOrder>(
        requests.map((r) => [
          r.clientOrderId,
          { clientOrderId: r.clientOrderId, side: r.side, price: toPriceUnits(r.price!), lots: 1 },
        ]),
      );
      // Down onto an order's price (ends are inclusive), back up between the books, up through the sells onto one,
      // down past a buy, up short of the last sell, and a step that meets nothing.
      const path = ['99500', '98500', '99800', '101500', '97500', '102000', '101900'];
      const expectedOrder: string[] = [];
      let last = h.startPrice;
      for (const price of path) {
        const fills = matchSegment([...book.values()], toPriceUnits(last), toPriceUnits(price));
        for (const f of fills) book.delete(f.clientOrderId);
        expectedOrder.push(...fills.map((f) => f.clientOrderId));
        const before = pushed.length;
        await h.movePrice(price);
        const got = pushed.slice(before);
        const asFill = (e: { clientOrderId: string; side: string; price: string | null; qty: string }) =>
          `${e.clientOrderId} ${e.side} ${decText(e.price!)} ${decText(e.qty)}`;
        expect(got.map(asFill).sort(), `${last} → ${price}`).toEqual(
          fills.map((f) => asFill(byId.get(f.clientOrderId)!)).sort(),
        );
        last = price;
      }
      // Not vacuous: the path filled on each side, and left one order of each side resting.
      expect(expectedOrder).toEqual(['c6-3-1', 'c6-2-1', 'c6-4-1', 'c6-5-1', 'c6-1-1', 'c6-6-1']);
      expect([...book.keys()].sort()).toEqual(['c6-0-1', 'c6-7-1']);
      // Oldest first, the executions come in the order the path met the orders.
      expect((await h.exchange.executionsAfter(null, 100)).map((e) => e.clientOrderId)).toEqual(
        expectedOrder,
      );
      expect((await openIds()).sort()).toEqual([...book.keys()].sort());
      for (const id of expectedOrder) {
        expect(await h.exchange.getOrder(id), id).toMatchObject({
          status: 'filled',
          filled: byId.get(id)!.qty,
        });
      }
    });
  });
}
