import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Decimal } from 'decimal.js';

/**
 * An independent, deliberately plain implementation of the grid rules and the fill model, written from the issue text
 * for tests: decimal.js for every figure, BigInt (1e-8 units) for every price comparison, an explicit list of open
 * orders scanned in full on every segment, its own CSV reading. It shares no code with src/ so that agreement means
 * something. It is slow; use it on a month of candles at most.
 */
const D = Decimal.clone({ precision: 100, rounding: Decimal.ROUND_HALF_UP });
type Dd = InstanceType<typeof D>;

export interface OracleParams {
  lower: string;
  upper: string;
  grids: number;
  mode: 'arithmetic' | 'geometric';
  investment: string;
  makerFee: string;
  takerFee: string;
  tick: string;
  qtyStep: string;
  stopLoss?: string;
  takeProfit?: string;
  /** Where buys pay their fee: quote (the default) or the base coin, as Bybit spot takes it. */
  buyFeeIn?: 'quote' | 'base';
}

export interface OracleCandle {
  o: string;
  h: string;
  l: string;
  c: string;
}

export interface OracleResult {
  buys: number;
  sells: number;
  qtyPerGrid: Dd;
  baseQty: Dd;
  quoteBalance: Dd;
  fees: Dd;
  gridProfit: Dd;
  netProfit: Dd;
  equity: Dd;
  maxDrawdownPct: Dd;
  levels: string[];
  stoppedAt: string | null;
}

export function readOracleCandles(path: string, limit = Number.POSITIVE_INFINITY): OracleCandle[] {
  const text = gunzipSync(readFileSync(path)).toString('utf8');
  const rows = text.trim().split('\n').slice(1);
  return rows.slice(0, limit).map((row) => {
    const [, o, h, l, c] = row.split(',');
    return { o: o!, h: h!, l: l!, c: c! };
  });
}

const units = (d: Dd): bigint => BigInt(d.times(1e8).toFixed(0));

interface Order {
  cell: number;
  side: 'buy' | 'sell';
  price: Dd;
  at: bigint;
}

export function oracleBacktest(p: OracleParams, candles: OracleCandle[]): OracleResult {
  const L = new D(p.lower);
  const U = new D(p.upper);
  const tick = new D(p.tick);
  const levels: Dd[] = [];
  for (let i = 0; i <= p.grids; i++) {
    const raw =
      p.mode === 'arithmetic'
        ? L.plus(U.minus(L).times(i).div(p.grids))
        : L.times(U.div(L).pow(new D(i).div(p.grids)));
    levels.push(raw.div(tick).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).times(tick));
  }
  const P0 = new D(candles[0]!.o);
  const q = new D(p.investment).div(p.grids).div(P0).div(p.qtyStep).floor().times(p.qtyStep);
  let k = 0;
  for (let i = 1; i <= p.grids; i++) {
    if (levels[i]!.minus(P0).abs().lt(levels[k]!.minus(P0).abs())) k = i;
  }
  const maker = new D(p.makerFee);
  const taker = new D(p.takerFee);
  const inBase = p.buyFeeIn === 'base';
  const step = new D(p.qtyStep);
  const entry: (Dd | null)[] = [];
  // What each cell holds while it holds base (with buy fees in base, less than q), and the unsellable remainder.
  const held: Dd[] = [];
  let dust = new D(0);
  let orders: Order[] = [];
  let quote = new D(p.investment);
  let fees = new D(0);
  let profit = new D(0);
  let base = new D(0);
  let buys = 0;
  let sells = 0;
  /** A buy of `qty` at `price`: returns the base it delivers in whole steps; the fee and any dust are booked. */
  const buy = (qty: Dd, price: Dd, rate: Dd): Dd => {
    const notional = qty.times(price);
    if (!inBase) {
      quote = quote.minus(notional).minus(notional.times(rate));
      fees = fees.plus(notional.times(rate));
      return qty;
    }
    const fee = qty.times(rate);
    const got = qty.minus(fee);
    const whole = got.div(step).floor().times(step);
    quote = quote.minus(notional);
    fees = fees.plus(fee.times(price));
    dust = dust.plus(got.minus(whole));
    return whole;
  };
  let startLeft = buy(q.times(p.grids - k), P0, taker);
  for (let cell = 0; cell < p.grids; cell++) {
    if (cell < k) {
      entry.push(null);
      held.push(new D(0));
      orders.push({ cell, side: 'buy', price: levels[cell]!, at: units(levels[cell]!) });
    } else {
      const got = D.min(startLeft, q);
      if (got.isZero()) throw new Error('oracle: a start cell got nothing to sell');
      startLeft = startLeft.minus(got);
      entry.push(P0);
      held.push(got);
      orders.push({ cell, side: 'sell', price: levels[cell + 1]!, at: units(levels[cell + 1]!) });
      base = base.plus(got);
    }
  }
  const S = p.stopLoss ? new D(p.stopLoss) : null;
  const T = p.takeProfit ? new D(p.takeProfit) : null;
  let stoppedAt: string | null = null;

  const fillOrder = (o: Order): Order => {
    if (o.side === 'buy') {
      buys++;
      const got = buy(q, o.price, maker);
      if (got.isZero()) throw new Error('oracle: a grid buy delivered nothing to sell');
      base = base.plus(got);
      held[o.cell] = got;
      entry[o.cell] = o.price;
      return { cell: o.cell, side: 'sell', price: levels[o.cell + 1]!, at: units(levels[o.cell + 1]!) };
    }
    sells++;
    const qty = held[o.cell]!;
    const notional = qty.times(o.price);
    const fee = notional.times(maker);
    fees = fees.plus(fee);
    quote = quote.plus(notional).minus(fee);
    base = base.minus(qty);
    profit = profit.plus(o.price.minus(entry[o.cell]!).times(qty));
    entry[o.cell] = null;
    held[o.cell] = new D(0);
    return { cell: o.cell, side: 'buy', price: levels[o.cell]!, at: units(levels[o.cell]!) };
  };

  const exitAt = (price: Dd) => {
    for (let cell = 0; cell < p.grids; cell++) {
      const e = entry[cell];
      if (e) profit = profit.plus(price.minus(e).times(held[cell]!));
    }
    const proceeds = base.times(price);
    quote = quote.plus(proceeds).minus(proceeds.times(taker));
    fees = fees.plus(proceeds.times(taker));
    base = new D(0);
    orders = [];
    stoppedAt = price.toFixed();
  };

  const segment = (a: Dd, b: Dd) => {
    const au = units(a);
    const bu = units(b);
    if (bu === au) return;
    const falling = bu < au;
    const hitsStop = falling && S !== null && b.lte(S);
    const hitsTake = !falling && T !== null && b.gte(T);
    const matched = orders.filter((o) => {
      if (falling) return o.side === 'buy' && o.at >= bu && o.at <= au && (!hitsStop || o.price.gt(S!));
      return o.side === 'sell' && o.at >= au && o.at <= bu && (!hitsTake || o.price.lt(T!));
    });
    matched.sort((x, y) => (falling ? Number(y.at - x.at) : Number(x.at - y.at)));
    const placed: Order[] = [];
    for (const o of matched) placed.push(fillOrder(o));
    orders = orders.filter((o) => !matched.includes(o)).concat(placed);
    if (hitsStop) exitAt(S!);
    else if (hitsTake) exitAt(T!);
  };

  let peak = new D(p.investment);
  let maxDd = new D(0);
  let prev = P0;
  let last = P0;
  for (const candle of candles) {
    const [o, h, l, c] = [new D(candle.o), new D(candle.h), new D(candle.l), new D(candle.c)];
    last = c;
    if (stoppedAt !== null) continue;
    const path = c.gte(o) ? [o, l, h, c] : [o, h, l, c];
    for (const point of path) {
      if (stoppedAt !== null) break;
      segment(prev, point);
      prev = point;
    }
    const equity = quote.plus(base.plus(dust).times(c));
    if (equity.gt(peak)) peak = equity;
    const dd = peak.minus(equity).div(peak);
    if (dd.gt(maxDd)) maxDd = dd;
  }
  return {
    buys,
    sells,
    qtyPerGrid: q,
    baseQty: base.plus(dust),
    quoteBalance: quote,
    fees,
    gridProfit: profit,
    netProfit: profit.minus(fees),
    equity: quote.plus(base.plus(dust).times(last)),
    maxDrawdownPct: maxDd.times(100),
    levels: levels.map((x) => x.toFixed()),
    stoppedAt,
  };
}
