import type { DataSource } from 'typeorm';
import type { GridState } from '../engine/grid/state.js';
import { Dec, decText, priceText } from '../engine/money.js';
import type { Balance, Exchange } from '../exchange/exchange.js';
import type { PriceCache } from '../market/price-cache.js';
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

interface TradeRow {
  id: string;
  executed_at: Date;
  grid_id: string;
  symbol: string;
  side: 'buy' | 'sell';
  price: string;
  quantity: string;
  fee: string;
  fee_currency: string;
  net: string;
  exec_id: string;
  exchange_order_id: string | null;
  client_order_id: string;
}

// `id` leaves as text: an ORDER BY over these names the table's columns (trade.id), or it would sort the text.
const TRADE_COLUMNS = `id::text, executed_at, grid_id, symbol, side, price::text, quantity::text, fee::text, fee_currency,
  (realized_pnl - fee_quote)::text AS net, exec_id, exchange_order_id, client_order_id`;

function tradeView(r: TradeRow): TradeView {
  return {
    at: new Date(r.executed_at).toISOString(),
    gridId: r.grid_id,
    symbol: r.symbol,
    side: r.side,
    price: decText(r.price),
    qty: decText(r.quantity),
    fee: decText(r.fee),
    feeCoin: r.fee_currency,
    feeCurrency: r.fee_currency,
    net: decText(r.net),
    execId: r.exec_id,
    orderId: r.exchange_order_id,
    clientOrderId: r.client_order_id,
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
      ds: DataSource;
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
    const { ds } = this.deps;
    let fromMs: number;
    if (period === 'all') {
      const [first] = (await ds.query(`SELECT min(executed_at) AS first FROM trade`)) as {
        first: Date | null;
      }[];
      fromMs = Math.min(first?.first ? new Date(first.first).getTime() : nowMs, nowMs - PERIOD_MS.day);
    } else {
      fromMs = nowMs - PERIOD_MS[period];
    }
    const span = nowMs - fromMs;
    const stepMs =
      span <= 2 * PERIOD_MS.day ? 3_600_000 : span <= 14 * PERIOD_MS.day ? 21_600_000 : PERIOD_MS.day;
    const from = new Date(fromMs);
    const to = new Date(nowMs);
    const points = (await ds.query(
      `WITH buckets AS (
         SELECT generate_series(to_timestamp(floor(extract(epoch FROM $1::timestamptz) * 1000 / $3) * $3 / 1000),
                                $2::timestamptz, make_interval(secs => $3 / 1000.0)) AS t)
       SELECT (extract(epoch FROM b.t) * 1000)::bigint AS t_ms,
              (SELECT COALESCE(SUM(realized_pnl - fee_quote), 0)::text FROM trade
                WHERE executed_at < b.t + make_interval(secs => $3 / 1000.0)) AS cumulative,
              (SELECT figures->>'equity' FROM risk_metric WHERE kind = 'snapshot' AND at >= b.t
                  AND at < b.t + make_interval(secs => $3 / 1000.0)
                  -- A check before any grid existed measured nothing: not a fall of equity to zero.
                  AND (figures->>'equity')::numeric > 0
                ORDER BY at DESC LIMIT 1) AS equity
         FROM buckets b ORDER BY b.t`,
      [from, to, stepMs],
    )) as { t_ms: string; cumulative: string; equity: string | null }[];
    const grids = (await ds.query(
      `SELECT g.id, g.name, g.symbol, g.status, g.base_qty::text, g.base_cost::text,
              (g.realized_pnl - g.fees)::text AS total_net,
              COALESCE(SUM(t.realized_pnl - t.fee_quote), 0)::text AS period_net,
              COALESCE(SUM(t.realized_pnl), 0)::text AS period_realized,
              COALESCE(SUM(t.fee_quote), 0)::text AS period_fees, count(t.id)::int AS fills
         FROM grid g LEFT JOIN trade t ON t.grid_id = g.id AND t.executed_at >= $1 AND t.executed_at <= $2
        GROUP BY g.id ORDER BY g.created_at, g.id`,
      [from, to],
    )) as {
      id: string;
      name: string;
      symbol: string;
      status: string;
      base_qty: string;
      base_cost: string;
      total_net: string;
      period_net: string;
      period_realized: string;
      period_fees: string;
      fills: number;
    }[];
    const last = new Map((await this.deps.prices.all()).map((p) => [p.symbol, p.price]));
    let realized = new Dec(0);
    let fees = new Dec(0);
    let fills = 0;
    for (const g of grids) {
      realized = realized.plus(g.period_realized);
      fees = fees.plus(g.period_fees);
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
        timeMs: Number(p.t_ms),
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
          periodNet: decText(g.period_net),
          periodFills: g.fills,
          totalNet: decText(g.total_net),
          unrealized: price ? decText(new Dec(g.base_qty).times(price).minus(g.base_cost)) : null,
        };
      }),
    };
  }

  /** The latest fills, newest first. */
  async trades(limit: number, symbol?: string): Promise<TradeView[]> {
    const rows = (await this.deps.ds.query(
      `SELECT ${TRADE_COLUMNS}
         FROM trade WHERE ($2::text IS NULL OR symbol = $2) ORDER BY trade.executed_at DESC, trade.id DESC LIMIT $1`,
      [Math.max(1, Math.min(limit, 500)), symbol ?? null],
    )) as TradeRow[];
    return rows.map(tradeView);
  }

  /**
   * Every fill of the filter, oldest first, a page at a time: each page is one short query that starts after the
   * last row of the one before (by time, then id, so fills sharing a time are neither repeated nor skipped), so an
   * export of any length holds one page in memory and no connection between pages.
   */
  async *tradePages(filter: TradeFilter = {}, pageSize = 1000): AsyncGenerator<TradeView[]> {
    let after: { at: string; id: string } | null = null;
    for (;;) {
      // The cursor's time as text to the microsecond: a JS Date keeps milliseconds, and a row stored with more
      // would compare after its own truncation and come again on the next page.
      const rows = (await this.deps.ds.query(
        `SELECT ${TRADE_COLUMNS},
                to_char(executed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
           FROM trade
          WHERE ($1::text IS NULL OR symbol = $1) AND ($2::timestamptz IS NULL OR executed_at >= $2)
            AND ($3::timestamptz IS NULL OR executed_at < $3)
            AND ($4::timestamptz IS NULL OR (executed_at, id) > ($4, $5::bigint))
          ORDER BY trade.executed_at, trade.id LIMIT $6`,
        [
          filter.symbol ?? null,
          filter.from ?? null,
          filter.to ?? null,
          after?.at ?? null,
          after?.id ?? null,
          pageSize,
        ],
      )) as (TradeRow & { cursor_at: string })[];
      if (rows.length > 0) yield rows.map(tradeView);
      if (rows.length < pageSize) return;
      const last = rows.at(-1)!;
      after = { at: last.cursor_at, id: last.id };
    }
  }

  /**
   * The grids' open orders, highest price first: those resting on the exchange (placed, no cancel asked), and those a
   * pre-trade rule holds back until it clears (a user looking for a grid's buys must see why one is missing).
   */
  async openOrders(symbol?: string): Promise<OrderView[]> {
    const rows = (await this.deps.ds.query(
      `SELECT grid_id, symbol, side, price::text, quantity::text, client_order_id,
              CASE WHEN status = 'held' THEN substring(reason FROM '^pre-trade ([a-z-]+):') END AS held
         FROM grid_order
        WHERE status IN ('placed', 'held') AND NOT cancel_requested AND ($1::text IS NULL OR symbol = $1)
        ORDER BY symbol, price DESC NULLS LAST`,
      [symbol ?? null],
    )) as {
      grid_id: string;
      symbol: string;
      side: 'buy' | 'sell';
      price: string | null;
      quantity: string;
      client_order_id: string;
      held: string | null;
    }[];
    return rows.map((r) => ({
      gridId: r.grid_id,
      symbol: r.symbol,
      side: r.side,
      price: r.price === null ? null : decText(r.price),
      qty: decText(r.quantity),
      clientOrderId: r.client_order_id,
      held: r.held,
    }));
  }

  /** A grid's lines, its resting orders and the price: what the ladder chart draws. Null for an unknown grid. */
  async ladder(gridId: string): Promise<LadderView | null> {
    const [grid] = (await this.deps.ds.query(
      `SELECT id, symbol, state, stop_loss::text, take_profit::text FROM grid WHERE id = $1`,
      [gridId],
    )) as {
      id: string;
      symbol: string;
      state: GridState;
      stop_loss: string | null;
      take_profit: string | null;
    }[];
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
      stopLoss: grid.stop_loss === null ? null : decText(grid.stop_loss),
      takeProfit: grid.take_profit === null ? null : decText(grid.take_profit),
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
