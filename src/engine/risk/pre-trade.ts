import { Dec } from '../money.js';

export interface PreTradeLimits {
  /** An order priced further than this from the last price is refused (fat finger), in percent (default 10). */
  readonly maxPriceDistancePct: string;
  /** Altcoin buys stop while BTC has fallen more than this over the lookback, in percent (default 3). */
  readonly btcFilterDropPct: string;
  /** Open orders at most per symbol and in total (null: no limit). */
  readonly maxOpenOrdersPerSymbol: number | null;
  readonly maxOpenOrdersTotal: number | null;
  /** Base held at most per symbol, in quote at market (null: no limit). */
  readonly maxPositionQuotePerSymbol: string | null;
}

export interface PreTradeContext {
  readonly killed: boolean;
  readonly gridRunning: boolean;
  readonly lastPrice: string | null;
  readonly stopLoss: string | null;
  readonly volatilityTripped: boolean;
  /** BTC's change over the lookback, in percent; null when the symbol is BTC itself or unknown. */
  readonly btcChangePct: string | null;
  readonly openOrdersOnSymbol: number;
  readonly openOrdersTotal: number;
  /** Base held on the symbol, valued at the last price, in quote. */
  readonly positionQuote: string;
  /**
   * Free balance of the coin the order spends (quote for a buy, base for a sell); null when it was not read, and then
   * not judged (a held order is re-judged on every price, and the balance is read only for what passes the rest).
   */
  readonly freeBalance: string | null;
}

export interface OrderToCheck {
  readonly symbol: string;
  /** An exit sells at market what a stopped grid holds: it only ever reduces risk. */
  readonly purpose: 'grid' | 'start' | 'exit';
  readonly side: 'buy' | 'sell';
  readonly price: string | null;
  readonly qty: string;
}

export type RefusalReason =
  | 'killed'
  | 'grid-not-running'
  | 'no-price'
  | 'price-too-far'
  | 'below-stop-loss'
  | 'volatility-breaker'
  | 'btc-filter'
  | 'too-many-orders-on-symbol'
  | 'too-many-orders'
  | 'position-limit'
  | 'insufficient-balance';

export type PreTradeVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: RefusalReason; readonly message: string };

/**
 * Refusals that lift by themselves as the market moves or money frees up: an order refused by one of them is held, not
 * dropped, and placed once a later check lets it through. The others wait for a person (the kill switch, a paused or
 * stopped grid) or say the grid's plan itself is at fault (stop-loss, limits): the grid places those orders again when
 * resumed.
 */
const CLEARS_BY_ITSELF: ReadonlySet<RefusalReason> = new Set<RefusalReason>([
  'volatility-breaker',
  'btc-filter',
  'price-too-far',
  'insufficient-balance',
]);

export function clearsByItself(reason: RefusalReason): boolean {
  return CLEARS_BY_ITSELF.has(reason);
}

const refuse = (reason: RefusalReason, message: string): PreTradeVerdict => ({ ok: false, reason, message });

/**
 * Layer 1: every order is checked before it leaves. Sells that reduce risk (a grid taking profit, an exit) pass the
 * buy-only rules (breaker, BTC filter, position limit). While the kill switch is on only exits pass: the kill's
 * optional sell-off of base, and a stop-loss racing the kill.
 */
export function preTradeCheck(
  order: OrderToCheck,
  ctx: PreTradeContext,
  limits: PreTradeLimits,
): PreTradeVerdict {
  if (ctx.killed && order.purpose !== 'exit') return refuse('killed', 'the kill switch is on');
  if (!ctx.gridRunning && order.purpose !== 'exit')
    return refuse('grid-not-running', 'the grid is not running');
  if (ctx.lastPrice === null) return refuse('no-price', `no price for ${order.symbol} yet`);
  const last = new Dec(ctx.lastPrice);
  const price = order.price === null ? last : new Dec(order.price);
  // The fat-finger guard looks at the side that would take liquidity: a buy far above the price or a sell far below
  // it would fill at once at a bad price. A grid's far lines rest on the passive side by design and are left alone.
  const through = order.side === 'buy' ? price.minus(last) : last.minus(price);
  const distance = through.div(last).times(100);
  if (distance.gt(limits.maxPriceDistancePct)) {
    return refuse(
      'price-too-far',
      `${order.side} at ${price.toFixed()} is ${distance.toDecimalPlaces(2).toFixed()} % from the last price ${last.toFixed()} (limit ${limits.maxPriceDistancePct} %)`,
    );
  }
  const notional = price.times(order.qty);
  if (order.side === 'buy') {
    if (ctx.stopLoss !== null && price.lte(ctx.stopLoss)) {
      return refuse(
        'below-stop-loss',
        `buy at ${price.toFixed()} is at or below the stop-loss ${ctx.stopLoss}`,
      );
    }
    if (ctx.volatilityTripped)
      return refuse('volatility-breaker', `the volatility breaker on ${order.symbol} is tripped`);
    if (ctx.btcChangePct !== null && new Dec(ctx.btcChangePct).neg().gt(limits.btcFilterDropPct)) {
      return refuse(
        'btc-filter',
        `BTC is down ${new Dec(ctx.btcChangePct).neg().toFixed()} % (more than ${limits.btcFilterDropPct} %): no new altcoin buys`,
      );
    }
    if (
      limits.maxPositionQuotePerSymbol !== null &&
      new Dec(ctx.positionQuote).plus(notional).gt(limits.maxPositionQuotePerSymbol)
    ) {
      return refuse(
        'position-limit',
        `${order.symbol} position ${ctx.positionQuote} + ${notional.toFixed()} would pass the limit ${limits.maxPositionQuotePerSymbol}`,
      );
    }
  }
  if (limits.maxOpenOrdersPerSymbol !== null && ctx.openOrdersOnSymbol + 1 > limits.maxOpenOrdersPerSymbol) {
    return refuse(
      'too-many-orders-on-symbol',
      `${order.symbol} has ${ctx.openOrdersOnSymbol} open orders (limit ${limits.maxOpenOrdersPerSymbol})`,
    );
  }
  if (limits.maxOpenOrdersTotal !== null && ctx.openOrdersTotal + 1 > limits.maxOpenOrdersTotal) {
    return refuse(
      'too-many-orders',
      `${ctx.openOrdersTotal} orders are open (limit ${limits.maxOpenOrdersTotal})`,
    );
  }
  const needed = order.side === 'buy' ? notional : new Dec(order.qty);
  if (ctx.freeBalance !== null && needed.gt(ctx.freeBalance)) {
    return refuse(
      'insufficient-balance',
      `${order.side === 'buy' ? 'quote' : 'base'} needed ${needed.toFixed()}, free ${ctx.freeBalance}`,
    );
  }
  return { ok: true };
}
