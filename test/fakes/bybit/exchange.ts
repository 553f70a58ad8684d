import { Decimal } from 'decimal.js';
import { CandleBook, type KlineInterval } from './candles.js';
import type {
  FakeBybitExecution,
  FakeBybitInstrument,
  FakeBybitOrder,
  FakeBybitOrderStatus,
  FakeBybitOrderType,
  FakeBybitSide,
} from './types.js';

/** Decimal with room for products of prices, quantities and fee rates, independent of any global Decimal.set. */
export const Dec = Decimal.clone({
  precision: 60,
  rounding: Decimal.ROUND_HALF_UP,
  toExpNeg: -60,
  toExpPos: 60,
});
const ZERO = new Dec(0);

/** Plain decimal text as Bybit sends it (no exponent, no '-0'). */
export function fmt(d: Decimal): string {
  return d.isZero() ? '0' : d.toFixed();
}

export interface Failure {
  readonly code: number;
  readonly msg: string;
}
export type Outcome<T> = { readonly ok: true; readonly value: T } | ({ readonly ok: false } & Failure);

export function fail(
  code: number,
  msg: string,
): { readonly ok: false; readonly code: number; readonly msg: string } {
  return { ok: false, code, msg };
}
function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export const MSG = {
  params: 'params error',
  symbol: 'Invalid symbol.',
  tick: 'Order price decimal too long.',
  step: 'Order quantity has too many decimals.',
  marketAmountStep: 'Market order amount decimal too long.',
  minAmt: 'Order value exceeded lower limit.',
  duplicate: 'Duplicate clientOrderId.',
  balance: 'Insufficient balance.',
  noOrder: 'Order does not exist.',
  tooManyOrders: 'The number of active orders exceeds the upper limit of 500.',
} as const;

const MAX_OPEN_ORDERS = 500;
const DAY = 86_400_000;
const WEEK = 7 * DAY;
const DECIMAL_TEXT = /^\d+(\.\d+)?$/;
const ORDER_LINK_ID = /^[0-9A-Za-z_-]{1,36}$/;
const OPEN: readonly FakeBybitOrderStatus[] = ['New', 'PartiallyFilled'];

interface Instrument {
  readonly spec: FakeBybitInstrument;
  readonly tickSize: Decimal;
  readonly basePrecision: Decimal;
  readonly quotePrecision: Decimal;
  readonly minOrderAmt: Decimal;
}

interface OrderState {
  readonly seq: number;
  readonly orderId: string;
  readonly orderLinkId: string;
  readonly symbol: string;
  readonly side: FakeBybitSide;
  readonly orderType: FakeBybitOrderType;
  readonly timeInForce: string;
  readonly marketUnit: '' | 'baseCoin' | 'quoteCoin';
  /** null for market orders. */
  readonly price: Decimal | null;
  /** In quote coin for a market order with marketUnit quoteCoin, else in base coin. */
  readonly qty: Decimal;
  readonly lastPriceOnCreated: string;
  readonly createdTime: number;
  status: FakeBybitOrderStatus;
  cancelType: string;
  rejectReason: string;
  cumExecQty: Decimal;
  cumExecValue: Decimal;
  fees: Map<string, Decimal>;
  reserved: { coin: string; amount: Decimal } | null;
  updatedTime: number;
}

interface Wallet {
  wallet: Decimal;
  locked: Decimal;
}

export interface ExchangeOptions {
  readonly instruments: readonly FakeBybitInstrument[];
  readonly balances: Record<string, string>;
  readonly makerFeeRate: string;
  readonly takerFeeRate: string;
  readonly now: () => number;
}

/**
 * A state change, emitted synchronously as it happens (the private WebSocket streams of ws.ts listen). Views are
 * snapshots taken at that moment.
 */
export type ExchangeEvent =
  | { readonly kind: 'order'; readonly order: FakeBybitOrder }
  | { readonly kind: 'execution'; readonly execution: FakeBybitExecution }
  | { readonly kind: 'wallet'; readonly coins: readonly string[] }
  | { readonly kind: 'price'; readonly symbol: string };

type Params = Record<string, unknown>;

function decimalText(value: string, what: string): Decimal {
  if (!DECIMAL_TEXT.test(value)) throw new Error(`fake bybit: ${what} is not a decimal string: ${value}`);
  return new Dec(value);
}

/** A string field, undefined when absent; a failure when present with another type. */
function text(p: Params, name: string): Outcome<string | undefined> {
  const v = p[name];
  if (v === undefined || v === null) return ok(undefined);
  if (typeof v !== 'string') return fail(10001, `${MSG.params}: ${name} must be a string`);
  return ok(v);
}

function positiveDecimal(v: string | undefined): Decimal | null {
  if (v === undefined || !DECIMAL_TEXT.test(v)) return null;
  const d = new Dec(v);
  return d.gt(0) ? d : null;
}

function isMultiple(x: Decimal, step: Decimal): boolean {
  return x.mod(step).isZero();
}

function floorTo(x: Decimal, step: Decimal): Decimal {
  return x.div(step).floor().mul(step);
}

function intParam(p: Params, name: string): Outcome<number | undefined> {
  const v = p[name];
  if (v === undefined || v === '') return ok(undefined);
  const s = String(v);
  if (!/^\d+$/.test(s)) return fail(10001, `${MSG.params}: ${name} must be an integer`);
  return ok(Number(s));
}

function limitParam(p: Params, fallback: number, max: number): Outcome<number> {
  const r = intParam(p, 'limit');
  if (!r.ok) return r;
  if (r.value === undefined) return ok(fallback);
  return ok(Math.min(Math.max(r.value, 1), max));
}

/** [start, end] of a query with startTime/endTime: at most 7 days, the last 7 days by default. */
function timeWindow(p: Params, now: number): Outcome<[number, number]> {
  const s = intParam(p, 'startTime');
  if (!s.ok) return s;
  const e = intParam(p, 'endTime');
  if (!e.ok) return e;
  const start = s.value;
  const end = e.value;
  if (start !== undefined && end !== undefined) {
    if (end < start) return fail(10001, `${MSG.params}: endTime is before startTime`);
    if (end - start > WEEK)
      return fail(10001, 'The time range between startTime and endTime cannot exceed 7 days.');
    return ok([start, end]);
  }
  if (start !== undefined) return ok([start, start + WEEK]);
  if (end !== undefined) return ok([end - WEEK, end]);
  return ok([now - WEEK, now]);
}

/** Items are already sorted; the cursor is the key of the last item of the previous page. */
function paginate<T>(
  items: readonly T[],
  key: (t: T) => string,
  cursor: unknown,
  limit: number,
): Outcome<{ page: T[]; next: string }> {
  let from = 0;
  if (typeof cursor === 'string' && cursor !== '') {
    const i = items.findIndex((t) => key(t) === cursor);
    if (i < 0) return fail(10001, `${MSG.params}: cursor is invalid`);
    from = i + 1;
  }
  const page = items.slice(from, from + limit);
  const last = page[page.length - 1];
  const next = from + limit < items.length && last !== undefined ? key(last) : '';
  return ok({ page, next });
}

/** Orders, balances, fills and candles of the fake: everything but HTTP. */
export class FakeExchange {
  private readonly instruments = new Map<string, Instrument>();
  private readonly wallets = new Map<string, Wallet>();
  private readonly orderList: OrderState[] = [];
  private readonly byId = new Map<string, OrderState>();
  private readonly byLinkId = new Map<string, OrderState>();
  private readonly fills: FakeBybitExecution[] = [];
  private readonly lastPrices = new Map<string, Decimal>();
  private readonly candleBooks = new Map<string, CandleBook>();
  private readonly makerRate: Decimal;
  private readonly takerRate: Decimal;
  private readonly now: () => number;
  private nextOrderId = 1_800_000_000_000_000_001n;
  private nextExecId = 2_100_000_000_000_000_001n;
  private seq = 0;
  /** Called on every order state change, fill, balance change and price move (see ExchangeEvent). */
  onEvent: ((event: ExchangeEvent) => void) | null = null;

  constructor(options: ExchangeOptions) {
    this.now = options.now;
    this.makerRate = new Dec(options.makerFeeRate);
    this.takerRate = new Dec(options.takerFeeRate);
    for (const spec of options.instruments) {
      this.instruments.set(spec.symbol, {
        spec,
        tickSize: decimalText(spec.tickSize, `${spec.symbol} tickSize`),
        basePrecision: decimalText(spec.basePrecision, `${spec.symbol} basePrecision`),
        quotePrecision: decimalText(spec.quotePrecision ?? '0.00000001', `${spec.symbol} quotePrecision`),
        minOrderAmt: decimalText(spec.minOrderAmt, `${spec.symbol} minOrderAmt`),
      });
      this.candleBooks.set(spec.symbol, new CandleBook(ZERO));
    }
    for (const [coin, amount] of Object.entries(options.balances)) {
      this.wallet(coin).wallet = decimalText(amount, `${coin} balance`);
    }
  }

  // ---------------------------------------------------------------- market

  hasSymbol(symbol: string): boolean {
    return this.instruments.has(symbol);
  }

  lastPrice(symbol: string): Decimal | undefined {
    return this.lastPrices.get(symbol);
  }

  /** The engine's fill model: the path from the last price to `price` fills the resting limits it meets. */
  setPrice(symbol: string, price: string): void {
    const inst = this.instruments.get(symbol);
    if (inst === undefined) throw new Error(`fake bybit: unknown symbol ${symbol}`);
    const to = decimalText(price, 'price');
    if (!to.gt(0)) throw new Error(`fake bybit: price must be positive: ${price}`);
    const from = this.lastPrices.get(symbol);
    const t = this.now();
    this.candleBooks.get(symbol)!.touch(t, from === undefined ? [to] : [from, to]);
    this.lastPrices.set(symbol, to);
    if (from === undefined || from.eq(to)) {
      this.emit({ kind: 'price', symbol });
      return;
    }
    const falling = to.lt(from);
    const book = this.orderList.filter(
      (o) =>
        o.symbol === symbol &&
        o.orderType === 'Limit' &&
        OPEN.includes(o.status) &&
        o.price !== null &&
        (falling
          ? o.side === 'Buy' && o.price.gte(to) && o.price.lte(from)
          : o.side === 'Sell' && o.price.gte(from) && o.price.lte(to)),
    );
    book.sort((a, b) => {
      const byPrice = falling ? b.price!.cmp(a.price!) : a.price!.cmp(b.price!);
      return byPrice !== 0 ? byPrice : a.seq - b.seq;
    });
    for (const o of book) this.fill(o, o.price!, o.qty.sub(o.cumExecQty), true);
    this.emit({ kind: 'price', symbol });
  }

  instrumentsInfo(symbol: string | undefined): unknown[] {
    const out: unknown[] = [];
    for (const inst of this.instruments.values()) {
      if (symbol !== undefined && inst.spec.symbol !== symbol) continue;
      const s = inst.spec;
      out.push({
        symbol: s.symbol,
        baseCoin: s.baseCoin,
        quoteCoin: s.quoteCoin,
        innovation: '0',
        symbolType: '',
        status: 'Trading',
        marginTrading: 'utaOnly',
        stTag: '0',
        lotSizeFilter: {
          basePrecision: s.basePrecision,
          quotePrecision: fmt(inst.quotePrecision),
          minOrderQty: s.minOrderQty,
          maxOrderQty: '1000000',
          minOrderAmt: s.minOrderAmt,
          maxOrderAmt: '100000000',
          maxLimitOrderQty: '1000000',
          maxMarketOrderQty: '500000',
          postOnlyMaxLimitOrderSize: '5000000',
        },
        priceFilter: { tickSize: s.tickSize },
        riskParameters: { priceLimitRatioX: '0.05', priceLimitRatioY: '0.05' },
      });
    }
    return out;
  }

  tickers(symbol: string | undefined): unknown[] {
    const out: unknown[] = [];
    const now = this.now();
    for (const inst of this.instruments.values()) {
      const s = inst.spec;
      if (symbol !== undefined && s.symbol !== symbol) continue;
      const last = this.lastPrices.get(s.symbol);
      if (last === undefined) continue;
      const st = this.candleBooks.get(s.symbol)!.stats24h(now, last);
      const bid = Dec.max(last.sub(inst.tickSize), inst.tickSize);
      out.push({
        symbol: s.symbol,
        bid1Price: fmt(bid),
        bid1Size: '1',
        ask1Price: fmt(last.add(inst.tickSize)),
        ask1Size: '1',
        lastPrice: fmt(last),
        prevPrice24h: fmt(st.prev),
        price24hPcnt: fmt(last.sub(st.prev).div(st.prev).toDecimalPlaces(4, Decimal.ROUND_HALF_UP)),
        highPrice24h: fmt(st.high),
        lowPrice24h: fmt(st.low),
        turnover24h: fmt(st.turnover),
        volume24h: fmt(st.volume),
        usdIndexPrice: s.quoteCoin === 'USDT' || s.quoteCoin === 'USDC' ? fmt(last) : '',
      });
    }
    return out;
  }

  /** [startTime, open, high, low, close, volume, turnover], newest first. */
  klines(
    symbol: string,
    interval: KlineInterval,
    start: number | undefined,
    end: number | undefined,
    limit: number,
  ): string[][] {
    const book = this.candleBooks.get(symbol)!;
    const latest = Math.max(this.now(), book.latestStart() ?? -Infinity);
    return book
      .candles(interval, start, Math.min(end ?? Infinity, latest), limit)
      .map((c) => [
        String(c.start),
        fmt(c.open),
        fmt(c.high),
        fmt(c.low),
        fmt(c.close),
        fmt(c.volume),
        fmt(c.turnover),
      ]);
  }

  // ---------------------------------------------------------------- orders

  /** POST /v5/order/create (one order, also one item of create-batch). */
  create(p: Params): Outcome<OrderState> {
    const fields: Record<string, string | undefined> = {};
    for (const name of [
      'symbol',
      'side',
      'orderType',
      'qty',
      'price',
      'orderLinkId',
      'timeInForce',
      'marketUnit',
    ]) {
      const r = text(p, name);
      if (!r.ok) return r;
      fields[name] = r.value;
    }
    const { symbol, side, orderType, qty: qtyText, price: priceText } = fields;
    if (symbol === undefined || side === undefined || orderType === undefined || qtyText === undefined) {
      return fail(10001, `${MSG.params}: symbol, side, orderType and qty are required`);
    }
    const inst = this.instruments.get(symbol);
    if (inst === undefined) return fail(170121, MSG.symbol);
    if (side !== 'Buy' && side !== 'Sell') return fail(10001, `${MSG.params}: side must be Buy or Sell`);
    if (orderType !== 'Limit' && orderType !== 'Market') {
      return fail(10001, `${MSG.params}: orderType must be Limit or Market`);
    }
    const timeInForce = orderType === 'Market' ? 'IOC' : (fields.timeInForce ?? 'GTC');
    if (!['GTC', 'IOC', 'FOK', 'PostOnly'].includes(timeInForce)) {
      return fail(10001, `${MSG.params}: timeInForce is invalid`);
    }
    const unitField = fields.marketUnit;
    if (unitField !== undefined && unitField !== 'baseCoin' && unitField !== 'quoteCoin') {
      return fail(10001, `${MSG.params}: marketUnit must be baseCoin or quoteCoin`);
    }
    const marketUnit =
      orderType === 'Limit' ? '' : (unitField ?? (side === 'Buy' ? 'quoteCoin' : 'baseCoin'));
    const orderLinkId = fields.orderLinkId ?? '';
    if (orderLinkId !== '' && !ORDER_LINK_ID.test(orderLinkId)) {
      return fail(10001, `${MSG.params}: orderLinkId must be at most 36 characters of [0-9A-Za-z_-]`);
    }
    if (orderLinkId !== '' && this.byLinkId.has(orderLinkId)) return fail(170141, MSG.duplicate);
    const qty = positiveDecimal(qtyText);
    if (qty === null) return fail(10001, `${MSG.params}: qty must be a positive decimal string`);

    let price: Decimal | null = null;
    const last = this.lastPrices.get(symbol);
    if (orderType === 'Limit') {
      price = positiveDecimal(priceText);
      if (price === null) return fail(10001, `${MSG.params}: a Limit order needs a positive decimal price`);
      if (!isMultiple(price, inst.tickSize)) return fail(170134, MSG.tick);
    } else if (last === undefined) {
      return fail(10001, `${MSG.params}: no market price yet for ${symbol} (fake: call setPrice first)`);
    }

    const inQuote = marketUnit === 'quoteCoin';
    if (inQuote) {
      if (!isMultiple(qty, inst.quotePrecision)) return fail(170148, MSG.marketAmountStep);
    } else if (!isMultiple(qty, inst.basePrecision)) {
      return fail(170137, MSG.step);
    }
    const refPrice = (price ?? last)!;
    const value = inQuote ? qty : qty.mul(refPrice);
    if (value.lt(inst.minOrderAmt)) return fail(170140, MSG.minAmt);
    if (orderType === 'Limit' && this.openOrders().length >= MAX_OPEN_ORDERS) {
      return fail(170810, MSG.tooManyOrders);
    }

    const { baseCoin, quoteCoin } = inst.spec;
    let reserve: { coin: string; amount: Decimal };
    if (orderType === 'Limit') {
      reserve =
        side === 'Buy'
          ? { coin: quoteCoin, amount: qty.mul(price!).mul(Dec.max(this.takerRate, 0).add(1)) }
          : { coin: baseCoin, amount: qty };
    } else if (side === 'Buy') {
      reserve = { coin: quoteCoin, amount: value };
    } else {
      reserve = { coin: baseCoin, amount: inQuote ? floorTo(qty.div(refPrice), inst.basePrecision) : qty };
    }
    if (this.available(reserve.coin).lt(reserve.amount)) return fail(170131, MSG.balance);

    const now = this.now();
    const order: OrderState = {
      seq: ++this.seq,
      orderId: String(this.nextOrderId++),
      orderLinkId,
      symbol,
      side,
      orderType,
      timeInForce,
      marketUnit,
      price,
      qty,
      lastPriceOnCreated: last === undefined ? '' : fmt(last),
      createdTime: now,
      status: 'New',
      cancelType: 'UNKNOWN',
      rejectReason: 'EC_NoError',
      cumExecQty: ZERO,
      cumExecValue: ZERO,
      fees: new Map(),
      reserved: null,
      updatedTime: now,
    };
    this.orderList.push(order);
    this.byId.set(order.orderId, order);
    if (orderLinkId !== '') this.byLinkId.set(orderLinkId, order);
    this.emitOrder(order);

    if (orderType === 'Market') {
      const execQty = inQuote ? floorTo(qty.div(last!), inst.basePrecision) : qty;
      if (execQty.isZero()) this.close(order, 'Cancelled', 'UNKNOWN', 'EC_NoImmediateQtyToFill');
      else this.fill(order, last!, execQty, false);
      return ok(order);
    }
    this.lock(order, reserve);
    const crosses = last !== undefined && (side === 'Buy' ? price!.gt(last) : price!.lt(last));
    if (crosses && timeInForce === 'PostOnly') {
      this.close(order, 'Cancelled', 'UNKNOWN', 'EC_PostOnlyWillTakeLiquidity');
    } else if (crosses) {
      this.fill(order, price!, qty, false);
    } else if (timeInForce === 'IOC' || timeInForce === 'FOK') {
      this.close(order, 'Cancelled', 'UNKNOWN', 'EC_NoImmediateQtyToFill');
    } else {
      this.emit({ kind: 'wallet', coins: [reserve.coin] });
    }
    return ok(order);
  }

  /** POST /v5/order/cancel. */
  cancel(p: Params): Outcome<OrderState> {
    const symbol = text(p, 'symbol');
    const orderId = text(p, 'orderId');
    const orderLinkId = text(p, 'orderLinkId');
    if (!symbol.ok) return symbol;
    if (!orderId.ok) return orderId;
    if (!orderLinkId.ok) return orderLinkId;
    if (symbol.value === undefined) return fail(10001, `${MSG.params}: symbol is required`);
    if (!orderId.value && !orderLinkId.value)
      return fail(10001, `${MSG.params}: orderId or orderLinkId is required`);
    if (!this.instruments.has(symbol.value)) return fail(170121, MSG.symbol);
    const order = orderId.value ? this.byId.get(orderId.value) : this.byLinkId.get(orderLinkId.value!);
    if (order === undefined || order.symbol !== symbol.value || !OPEN.includes(order.status)) {
      return fail(170213, MSG.noOrder);
    }
    this.close(order, 'Cancelled', 'CancelByUser', 'EC_NoError');
    return ok(order);
  }

  /** POST /v5/order/cancel-all. */
  cancelAll(p: Params): Outcome<OrderState[]> {
    const symbol = text(p, 'symbol');
    const baseCoin = text(p, 'baseCoin');
    const filter = text(p, 'orderFilter');
    if (!symbol.ok) return symbol;
    if (!baseCoin.ok) return baseCoin;
    if (!filter.ok) return filter;
    if (symbol.value !== undefined && !this.instruments.has(symbol.value)) return fail(170121, MSG.symbol);
    if (filter.value !== undefined && filter.value !== 'Order') return ok([]);
    const out = this.openOrders().filter(
      (o) =>
        (symbol.value === undefined || o.symbol === symbol.value) &&
        (baseCoin.value === undefined || this.instruments.get(o.symbol)!.spec.baseCoin === baseCoin.value),
    );
    for (const o of out) this.close(o, 'Cancelled', 'CancelByUser', 'EC_NoError');
    return ok(out);
  }

  /** GET /v5/order/realtime. */
  realtime(p: Params): Outcome<{ nextPageCursor: string; list: FakeBybitOrder[] }> {
    const openOnly = String(p.openOnly ?? '0');
    if (!['0', '1', '2'].includes(openOnly)) return fail(10001, `${MSG.params}: openOnly is invalid`);
    const limit = limitParam(p, 20, 50);
    if (!limit.ok) return limit;
    let list = this.newestFirst(this.orderList);
    list =
      openOnly === '0'
        ? list.filter((o) => OPEN.includes(o.status))
        : list.filter((o) => !OPEN.includes(o.status));
    if (openOnly !== '0') list = list.slice(0, 500);
    if (p.orderFilter !== undefined && p.orderFilter !== 'Order') list = [];
    // Bybit applies one filter by priority: orderId > orderLinkId > symbol > baseCoin.
    if (p.orderId) list = list.filter((o) => o.orderId === p.orderId);
    else if (p.orderLinkId) list = list.filter((o) => o.orderLinkId === p.orderLinkId);
    else if (p.symbol) list = list.filter((o) => o.symbol === p.symbol);
    else if (p.baseCoin)
      list = list.filter((o) => this.instruments.get(o.symbol)!.spec.baseCoin === p.baseCoin);
    const page = paginate(list, (o) => o.orderId, p.cursor, limit.value);
    if (!page.ok) return page;
    return ok({ nextPageCursor: page.value.next, list: page.value.page.map((o) => this.view(o)) });
  }

  /** GET /v5/order/history: all statuses (UTA), created in the window, within Bybit's retention. */
  history(p: Params): Outcome<{ nextPageCursor: string; list: FakeBybitOrder[] }> {
    const now = this.now();
    const limit = limitParam(p, 20, 50);
    if (!limit.ok) return limit;
    const window = timeWindow(p, now);
    if (!window.ok) return window;
    const [start, end] = window.value;
    let list = this.newestFirst(this.orderList).filter((o) => {
      if (o.createdTime < start || o.createdTime > end) return false;
      const unfilled = (o.status === 'Cancelled' || o.status === 'Rejected') && o.cumExecQty.isZero();
      return now - o.updatedTime <= (unfilled ? DAY : WEEK);
    });
    if (p.orderFilter !== undefined && p.orderFilter !== 'Order') list = [];
    if (p.orderId) list = list.filter((o) => o.orderId === p.orderId);
    if (p.orderLinkId) list = list.filter((o) => o.orderLinkId === p.orderLinkId);
    if (p.symbol) list = list.filter((o) => o.symbol === p.symbol);
    if (p.baseCoin) list = list.filter((o) => this.instruments.get(o.symbol)!.spec.baseCoin === p.baseCoin);
    if (p.orderStatus) list = list.filter((o) => o.status === p.orderStatus);
    const page = paginate(list, (o) => o.orderId, p.cursor, limit.value);
    if (!page.ok) return page;
    return ok({ nextPageCursor: page.value.next, list: page.value.page.map((o) => this.view(o)) });
  }

  /** GET /v5/execution/list. */
  executionList(p: Params): Outcome<{ nextPageCursor: string; list: FakeBybitExecution[] }> {
    const limit = limitParam(p, 50, 100);
    if (!limit.ok) return limit;
    const window = timeWindow(p, this.now());
    if (!window.ok) return window;
    const [start, end] = window.value;
    const list = [...this.fills]
      .reverse()
      .filter(
        (e) =>
          Number(e.execTime) >= start &&
          Number(e.execTime) <= end &&
          (!p.orderId || e.orderId === p.orderId) &&
          (!p.orderLinkId || e.orderLinkId === p.orderLinkId) &&
          (!p.symbol || e.symbol === p.symbol) &&
          (!p.baseCoin || this.instruments.get(e.symbol)!.spec.baseCoin === p.baseCoin) &&
          (!p.execType || e.execType === p.execType),
      )
      .sort((a, b) => Number(b.execTime) - Number(a.execTime) || b.seq - a.seq);
    const page = paginate(list, (e) => e.execId, p.cursor, limit.value);
    if (!page.ok) return page;
    return ok({ nextPageCursor: page.value.next, list: page.value.page.map((e) => ({ ...e })) });
  }

  // ---------------------------------------------------------------- balances

  /** GET /v5/account/wallet-balance result.list[0]. */
  walletBalance(coins: string[] | undefined): unknown {
    const names = coins ?? [...this.wallets.keys()].filter((c) => !this.wallets.get(c)!.wallet.isZero());
    let equity = ZERO;
    let available = ZERO;
    const coin = names.map((name) => {
      const w = this.wallets.get(name) ?? { wallet: ZERO, locked: ZERO };
      const px = this.usdPrice(name);
      const usd = w.wallet.mul(px);
      equity = equity.add(usd);
      available = available.add(w.wallet.sub(w.locked).mul(px));
      return {
        coin: name,
        equity: fmt(w.wallet),
        usdValue: fmt(usd),
        walletBalance: fmt(w.wallet),
        free: '',
        locked: fmt(w.locked),
        spotHedgingQty: '0',
        borrowAmount: '0',
        availableToWithdraw: '',
        availableToBorrow: '',
        accruedInterest: '0',
        totalOrderIM: '0',
        totalPositionIM: '0',
        totalPositionMM: '0',
        unrealisedPnl: '0',
        cumRealisedPnl: '0',
        bonus: '0',
        marginCollateral: true,
        collateralSwitch: true,
        spotBorrow: '0',
      };
    });
    return {
      accountType: 'UNIFIED',
      accountLTV: '0',
      accountIMRate: '0',
      accountMMRate: '0',
      totalEquity: fmt(equity),
      totalWalletBalance: fmt(equity),
      totalMarginBalance: fmt(equity),
      totalAvailableBalance: fmt(available),
      totalPerpUPL: '0',
      totalInitialMargin: '0',
      totalMaintenanceMargin: '0',
      coin,
    };
  }

  balances(): Record<string, { walletBalance: string; locked: string }> {
    const out: Record<string, { walletBalance: string; locked: string }> = {};
    for (const [coin, w] of this.wallets) out[coin] = { walletBalance: fmt(w.wallet), locked: fmt(w.locked) };
    return out;
  }

  feeRates(symbol: string | undefined): unknown[] {
    return [...this.instruments.keys()]
      .filter((s) => symbol === undefined || s === symbol)
      .map((s) => ({
        symbol: s,
        baseCoin: '',
        takerFeeRate: fmt(this.takerRate),
        makerFeeRate: fmt(this.makerRate),
      }));
  }

  // ---------------------------------------------------------------- views

  orders(): FakeBybitOrder[] {
    return this.orderList.map((o) => this.view(o));
  }

  executions(): FakeBybitExecution[] {
    return this.fills.map((e) => ({ ...e }));
  }

  view(o: OrderState): FakeBybitOrder {
    const open = OPEN.includes(o.status);
    const leaves = open ? o.qty.sub(o.cumExecQty) : ZERO;
    const cumFeeDetail: Record<string, string> = {};
    let cumFee = ZERO;
    for (const [coin, fee] of o.fees) {
      cumFeeDetail[coin] = fmt(fee);
      cumFee = cumFee.add(fee);
    }
    return {
      orderId: o.orderId,
      orderLinkId: o.orderLinkId,
      blockTradeId: '',
      symbol: o.symbol,
      price: o.price === null ? '0' : fmt(o.price),
      qty: fmt(o.qty),
      side: o.side,
      isLeverage: '0',
      positionIdx: 0,
      orderStatus: o.status,
      cancelType: o.cancelType,
      rejectReason: o.rejectReason,
      avgPrice: o.cumExecQty.isZero() ? '' : fmt(o.cumExecValue.div(o.cumExecQty)),
      leavesQty: fmt(leaves),
      leavesValue: o.price === null ? '0' : fmt(leaves.mul(o.price)),
      cumExecQty: fmt(o.cumExecQty),
      cumExecValue: fmt(o.cumExecValue),
      cumExecFee: fmt(cumFee),
      cumFeeDetail,
      timeInForce: o.timeInForce,
      orderType: o.orderType,
      stopOrderType: '',
      orderIv: '',
      marketUnit: o.marketUnit,
      triggerPrice: '0',
      takeProfit: '0',
      stopLoss: '0',
      tpslMode: '',
      ocoTriggerBy: '',
      tpLimitPrice: '0',
      slLimitPrice: '0',
      tpTriggerBy: '',
      slTriggerBy: '',
      triggerDirection: 0,
      triggerBy: '',
      lastPriceOnCreated: o.lastPriceOnCreated,
      basePrice: o.lastPriceOnCreated,
      reduceOnly: false,
      closeOnTrigger: false,
      placeType: '',
      smpType: 'None',
      smpGroup: 0,
      smpOrderId: '',
      createdTime: String(o.createdTime),
      updatedTime: String(o.updatedTime),
    };
  }

  // ---------------------------------------------------------------- internals

  private openOrders(): OrderState[] {
    return this.orderList.filter((o) => OPEN.includes(o.status));
  }

  private newestFirst(list: readonly OrderState[]): OrderState[] {
    return [...list].sort((a, b) => b.createdTime - a.createdTime || b.seq - a.seq);
  }

  private wallet(coin: string): Wallet {
    let w = this.wallets.get(coin);
    if (w === undefined) {
      w = { wallet: ZERO, locked: ZERO };
      this.wallets.set(coin, w);
    }
    return w;
  }

  private available(coin: string): Decimal {
    const w = this.wallet(coin);
    return w.wallet.sub(w.locked);
  }

  private usdPrice(coin: string): Decimal {
    if (coin === 'USDT' || coin === 'USDC') return new Dec(1);
    for (const inst of this.instruments.values()) {
      const last = this.lastPrices.get(inst.spec.symbol);
      if (inst.spec.baseCoin === coin && inst.spec.quoteCoin === 'USDT' && last !== undefined) return last;
    }
    return ZERO;
  }

  private lock(order: OrderState, reserve: { coin: string; amount: Decimal }): void {
    const w = this.wallet(reserve.coin);
    w.locked = w.locked.add(reserve.amount);
    order.reserved = reserve;
  }

  private unlock(order: OrderState): void {
    if (order.reserved === null) return;
    const w = this.wallet(order.reserved.coin);
    w.locked = w.locked.sub(order.reserved.amount);
    order.reserved = null;
  }

  private close(
    order: OrderState,
    status: FakeBybitOrderStatus,
    cancelType: string,
    rejectReason: string,
  ): void {
    const reserved = order.reserved?.coin;
    this.unlock(order);
    order.status = status;
    order.cancelType = cancelType;
    order.rejectReason = rejectReason;
    order.updatedTime = this.now();
    this.emitOrder(order);
    if (reserved !== undefined) this.emit({ kind: 'wallet', coins: [reserved] });
  }

  private emit(event: ExchangeEvent): void {
    this.onEvent?.(event);
  }

  private emitOrder(order: OrderState): void {
    if (this.onEvent !== null) this.emit({ kind: 'order', order: this.view(order) });
  }

  /**
   * Fills `execQty` of the order at `execPrice`, whole (this fake does not partially fill). Spot fees (protocols.md
   * 1.7): a Buy pays in base, a Sell in quote; a negative maker rate (rebate) is paid the other way round.
   */
  private fill(order: OrderState, execPrice: Decimal, execQty: Decimal, isMaker: boolean): void {
    const inst = this.instruments.get(order.symbol)!;
    const { baseCoin, quoteCoin } = inst.spec;
    const rate = isMaker ? this.makerRate : this.takerRate;
    const execValue = execQty.mul(execPrice);
    const rebate = isMaker && rate.isNegative();
    const inBase = order.side === 'Buy' ? !rebate : rebate;
    const feeCurrency = inBase ? baseCoin : quoteCoin;
    const fee = (inBase ? execQty : execValue).mul(rate);
    const base = this.wallet(baseCoin);
    const quote = this.wallet(quoteCoin);
    this.unlock(order);
    if (order.side === 'Buy') {
      quote.wallet = quote.wallet.sub(execValue);
      base.wallet = base.wallet.add(execQty);
    } else {
      base.wallet = base.wallet.sub(execQty);
      quote.wallet = quote.wallet.add(execValue);
    }
    const feeWallet = this.wallet(feeCurrency);
    feeWallet.wallet = feeWallet.wallet.sub(fee);

    const now = this.now();
    order.cumExecQty = order.cumExecQty.add(execQty);
    order.cumExecValue = order.cumExecValue.add(execValue);
    order.fees.set(feeCurrency, (order.fees.get(feeCurrency) ?? ZERO).add(fee));
    order.status = 'Filled';
    order.updatedTime = now;
    this.candleBooks.get(order.symbol)!.trade(now, execPrice, execQty, execValue);
    const execution: FakeBybitExecution = {
      symbol: order.symbol,
      orderId: order.orderId,
      orderLinkId: order.orderLinkId,
      side: order.side,
      orderPrice: order.price === null ? '0' : fmt(order.price),
      orderQty: fmt(order.qty),
      leavesQty: '0',
      createType: 'CreateByUser',
      orderType: order.orderType,
      stopOrderType: '',
      execFee: fmt(fee),
      execId: String(this.nextExecId++),
      execPrice: fmt(execPrice),
      execQty: fmt(execQty),
      execType: 'Trade',
      execValue: fmt(execValue),
      execTime: String(now),
      feeCurrency,
      isMaker,
      feeRate: fmt(rate),
      tradeIv: '',
      markIv: '',
      markPrice: '',
      indexPrice: '',
      underlyingPrice: '',
      blockTradeId: '',
      closedSize: '',
      seq: ++this.seq,
      extraFees: '',
    };
    this.fills.push(execution);
    this.emit({ kind: 'execution', execution: { ...execution } });
    this.emitOrder(order);
    this.emit({ kind: 'wallet', coins: [...new Set([baseCoin, quoteCoin, feeCurrency])] });
  }
}
