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
  const entry: (Dd | null)[] = [];
  let orders: Order[] = [];
  let quote = new D(p.investment);
  let fees = new D(0);
  let profit = new D(0);
  let base = new D(0);
  let buys = 0;
  let sells = 0;
  for (let cell = 0; cell < p.grids; cell++) {
    if (cell < k) {
      entry.push(null);
      orders.push({ cell, side: 'buy', price: levels[cell]!, at: units(levels[cell]!) });
    } else {
      entry.push(P0);
      orders.push({ cell, side: 'sell', price: levels[cell + 1]!, at: units(levels[cell + 1]!) });
      const cost = q.times(P0);
      quote = quote.minus(cost).minus(cost.times(taker));
      fees = fees.plus(cost.times(taker));
      base = base.plus(q);
    }
  }
  const S = p.stopLoss ? new D(p.stopLoss) : null;
  const T = p.takeProfit ? new D(p.takeProfit) : null;
  let stoppedAt: string | null = null;

  const fillOrder = (o: Order): Order => {
    const notional = q.times(o.price);
    const fee = notional.times(maker);
    fees = fees.plus(fee);
    if (o.side === 'buy') {
      buys++;
      quote = quote.minus(notional).minus(fee);
      base = base.plus(q);
      entry[o.cell] = o.price;
      return { cell: o.cell, side: 'sell', price: levels[o.cell + 1]!, at: units(levels[o.cell + 1]!) };
    }
    sells++;
    quote = quote.plus(notional).minus(fee);
    base = base.minus(q);
    profit = profit.plus(o.price.minus(entry[o.cell]!).times(q));
    entry[o.cell] = null;
    return { cell: o.cell, side: 'buy', price: levels[o.cell]!, at: units(levels[o.cell]!) };
  };

  const exitAt = (price: Dd) => {
    for (let cell = 0; cell < p.grids; cell++) {
      const e = entry[cell];
      if (e) profit = profit.plus(price.minus(e).times(q));
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
    const equity = quote.plus(base.times(c));
    if (equity.gt(peak)) peak = equity;
    const dd = peak.minus(equity).div(peak);
    if (dd.gt(maxDd)) maxDd = dd;
  }
  return {
    buys,
    sells,
    qtyPerGrid: q,
    baseQty: base,
    quoteBalance: quote,
    fees,
    gridProfit: profit,
    netProfit: profit.minus(fees),
    equity: quote.plus(base.times(last)),
    maxDrawdownPct: maxDd.times(100),
    levels: levels.map((x) => x.toFixed()),
    stoppedAt,
  };
}
