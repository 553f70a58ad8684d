import { Dec, decText, priceText } from '../engine/money.js';
import type { Balance, Exchange } from '../exchange/exchange.js';
import type { PriceCache } from '../market/price-cache.js';
import type { TradeCursor, TradeRecord, ViewStore } from './ports/views.js';
import type { RiskFigures } from './risk-monitor.js';
import type { KillState } from './risk-service.js';

export const PNL_PERIODS = ['day', 'week', 'month', 'all'] as const;
export type PnlPeriod = (typeof PNL_PERIODS)[number];

const PERIOD_MS: Record<Exclude<PnlPeriod, 'all'>, number> = {
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 30 * 86_400_000,
};

export interface PnlPoint {
  readonly timeMs: number;
  /** Realized grid profit less fees (in quote), summed over all time up to the end of this bucket. */
  readonly cumulativeNet: string;
  /** The book's equity (quote plus base at market) as the risk monitor last measured it in this bucket, if it did. */
  readonly equity: string | null;
}

export interface GridPnl {
  readonly id: string;
  readonly name: string;
  readonly symbol: string;
  readonly status: string;
  /** Realized less fees within the period. */
  readonly periodNet: string;
  readonly periodFills: number;
  /** Realized less fees since the grid began. */
  readonly totalNet: string;
  /** Base held at the last price less what it cost; null without a price. */
  readonly unrealized: string | null;
}

export interface PnlReport {
  readonly period: PnlPeriod;
  readonly fromMs: number;
  readonly toMs: number;
  readonly realized: string;
  readonly fees: string;
  readonly net: string;
  readonly fills: number;
  readonly points: readonly PnlPoint[];
  readonly grids: readonly GridPnl[];
}

export interface TradeView {
  readonly at: string;
  readonly gridId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly price: string;
  readonly qty: string;
  readonly fee: string;
  /** The coin the fee was taken in (Bybit takes spot buy fees in the base coin). */
  readonly feeCoin: string;
  /** The same as feeCoin, under the name the API first gave it. */
  readonly feeCurrency: string;
  /** Realized grid profit of this fill less its fee in quote: what the fill added to the grid's P/L. */
  readonly net: string;
  /** The exchange's execution id. */
  readonly execId: string;
  /** The exchange's order id; null on an old fill whose order never learned it. */
  readonly orderId: string | null;
  /** Our id of the order (Bybit's orderLinkId). */
  readonly clientOrderId: string;
}

export interface TradeFilter {
  readonly symbol?: string | undefined;
  /** Executed at or after. */
  readonly from?: Date | undefined;
  /** Executed before. */
  readonly to?: Date | undefined;
}

function tradeView(r: TradeRecord): TradeView {
  return {
    at: new Date(r.executedAt).toISOString(),
    gridId: r.gridId,
    symbol: r.symbol,
    side: r.side,
    price: decText(r.price),
    qty: decText(r.quantity),
    fee: decText(r.fee),
    feeCoin: r.feeCurrency,
    feeCurrency: r.feeCurrency,
    net: decText(r.net),
    execId: r.execId,
    orderId: r.exchangeOrderId,
    clientOrderId: r.clientOrderId,
  };
}

export interface OrderView {
  readonly gridId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly price: string | null;
  readonly qty: string;
  readonly clientOrderId: string;
  /** Held back by a pre-trade rule that clears by itself (such as "volatility-breaker"): not on the exchange yet. */
  readonly held: string | null;
}

export interface LadderView {
  readonly gridId: string;
  readonly symbol: string;
  readonly lines: readonly string[];
  readonly buys: readonly string[];
  readonly sells: readonly string[];
  readonly price: string | null;
  readonly stopLoss: string | null;
  readonly takeProfit: string | null;
}

export interface RiskView extends KillState {
  /** The latest figures the monitor measured (null before its first check); `figures` are the kill's own. */
  readonly latest: RiskFigures | null;
  readonly breakers: readonly string[];
}

/**
 * What the control surfaces show (chat, REST, dashboard), read from Postgres (the truth), the price cache and the
 * exchange. Money stays in decimal strings; sums are done by Postgres NUMERIC or decimal.js, never floats.
 */
export class Views {
  constructor(
    private readonly deps: {
      store: ViewStore;
      prices: PriceCache;
      exchange: Exchange;
      risk: { state(): Promise<KillState> };
      monitor: { latest(): Promise<RiskFigures | null>; trippedSymbols(): Promise<string[]> };
    },
  ) {}

  /**
   * P/L over a period: the totals, one point per bucket (an hour for a day, six hours for a week, a day beyond),
   * and the figures per grid. `nowMs` is passed in so a report for "today" is reproducible.
   */
  async pnl(period: PnlPeriod, nowMs: number): Promise<PnlReport> {
    const { store } = this.deps;
    let fromMs: number;
    if (period === 'all') {
      const first = await store.firstTradeAt();
      fromMs = Math.min(first ? new Date(first).getTime() : nowMs, nowMs - PERIOD_MS.day);
    } else {
      fromMs = nowMs - PERIOD_MS[period];
    }
    const span = nowMs - fromMs;
    const stepMs =
      span <= 2 * PERIOD_MS.day ? 3_600_000 : span <= 14 * PERIOD_MS.day ? 21_600_000 : PERIOD_MS.day;
    const from = new Date(fromMs);
    const to = new Date(nowMs);
    const points = await store.pnlBuckets(from, to, stepMs);
    const grids = await store.gridPeriods(from, to);
    const last = new Map((await this.deps.prices.all()).map((p) => [p.symbol, p.price]));
    let realized = new Dec(0);
    let fees = new Dec(0);
    let fills = 0;
    for (const g of grids) {
      realized = realized.plus(g.periodRealized);
      fees = fees.plus(g.periodFees);
      fills += g.fills;
    }
    return {
      period,
      fromMs,
      toMs: nowMs,
      realized: decText(realized),
      fees: decText(fees),
      net: decText(realized.minus(fees)),
      fills,
      points: points.map((p) => ({
        timeMs: p.timeMs,
        cumulativeNet: decText(p.cumulative),
        equity: p.equity === null ? null : decText(p.equity),
      })),
      grids: grids.map((g) => {
        const price = last.get(g.symbol);
        return {
          id: g.id,
          name: g.name,
          symbol: g.symbol,
          status: g.status,
          periodNet: decText(g.periodNet),
          periodFills: g.fills,
          totalNet: decText(g.totalNet),
          unrealized: price ? decText(new Dec(g.baseQty).times(price).minus(g.baseCost)) : null,
        };
      }),
    };
  }

  /** The latest fills, newest first. */
  async trades(limit: number, symbol?: string): Promise<TradeView[]> {
    const rows = await this.deps.store.recentTrades(Math.max(1, Math.min(limit, 500)), symbol ?? null);
    return rows.map(tradeView);
  }

  /**
   * Every fill of the filter, oldest first, a page at a time: each page is one short query that starts after the
   * last row of the one before (by time, then id, so fills sharing a time are neither repeated nor skipped), so an
   * export of any length holds one page in memory and no connection between pages.
   */
  async *tradePages(filter: TradeFilter = {}, pageSize = 1000): AsyncGenerator<TradeView[]> {
    let after: TradeCursor | null = null;
    const where = { symbol: filter.symbol ?? null, from: filter.from ?? null, to: filter.to ?? null };
    for (;;) {
      const rows = await this.deps.store.tradePage(where, after, pageSize);
      if (rows.length > 0) yield rows.map(tradeView);
      if (rows.length < pageSize) return;
      const last = rows.at(-1)!;
      after = { at: last.cursorAt, id: last.id };
    }
  }

  /**
   * The grids' open orders, highest price first: those resting on the exchange (placed, no cancel asked), and those a
   * pre-trade rule holds back until it clears (a user looking for a grid's buys must see why one is missing).
   */
  async openOrders(symbol?: string): Promise<OrderView[]> {
    const rows = await this.deps.store.openOrders(symbol ?? null);
    return rows.map((r) => ({
      gridId: r.gridId,
      symbol: r.symbol,
      side: r.side,
      price: r.price === null ? null : decText(r.price),
      qty: decText(r.quantity),
      clientOrderId: r.clientOrderId,
      held: r.held,
    }));
  }

  /** A grid's lines, its resting orders and the price: what the ladder chart draws. Null for an unknown grid. */
  async ladder(gridId: string): Promise<LadderView | null> {
    const grid = await this.deps.store.ladderGrid(gridId);
    if (!grid) return null;
    const orders = await this.openOrders(grid.symbol);
    // The ladder draws what rests on the exchange; a held order is not there yet.
    const mine = orders.filter((o) => o.gridId === grid.id && o.price !== null && o.held === null);
    return {
      gridId: grid.id,
      symbol: grid.symbol,
      lines: (grid.state.plan?.lines ?? []).map(priceText),
      buys: mine.filter((o) => o.side === 'buy').map((o) => o.price!),
      sells: mine.filter((o) => o.side === 'sell').map((o) => o.price!),
      price: (await this.deps.prices.get(grid.symbol))?.price ?? null,
      stopLoss: grid.stopLoss === null ? null : decText(grid.stopLoss),
      takeProfit: grid.takeProfit === null ? null : decText(grid.takeProfit),
    };
  }

  /** The account's coins with something in them. */
  async balances(): Promise<Balance[]> {
    return (await this.deps.exchange.balances()).filter((b) => !new Dec(b.total).isZero());
  }

  async risk(): Promise<RiskView> {
    const [state, latest, breakers] = await Promise.all([
      this.deps.risk.state(),
      this.deps.monitor.latest(),
      this.deps.monitor.trippedSymbols(),
    ]);
    return { ...state, latest, breakers };
  }
}
