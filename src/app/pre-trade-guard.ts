import type { DataSource } from 'typeorm';
import { Dec } from '../engine/money.js';
import { type PreTradeLimits, type PreTradeVerdict, preTradeCheck } from '../engine/risk/pre-trade.js';
import { changePct } from '../engine/risk/rules.js';
import type { Exchange, MarketInstrument } from '../exchange/exchange.js';
import type { PriceCache } from '../market/price-cache.js';

export interface GuardedOrder {
  readonly clientOrderId: string;
  readonly gridId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly price: string | null;
  readonly qty: string;
}

/**
 * Layer 1: builds what the pre-trade rules need (last price, stop-loss, breakers, BTC's last hour, open orders,
 * position, free balance) for a batch of orders, and judges each. Balances are read once per batch: the exchange
 * still refuses what it cannot fill, this only keeps obviously doomed or dangerous orders home.
 */
export class PreTradeGuard {
  constructor(
    private readonly deps: {
      ds: DataSource;
      prices: PriceCache;
      exchange: Exchange;
      isKilled: () => Promise<boolean>;
      trippedSymbols: () => Promise<string[]>;
      limits: PreTradeLimits & { readonly btcLookbackMs: number };
    },
  ) {}

  async check(orders: readonly GuardedOrder[]): Promise<PreTradeVerdict[]> {
    if (orders.length === 0) return [];
    const { ds, limits } = this.deps;
    const [killed, tripped, balances, btc] = await Promise.all([
      this.deps.isKilled(),
      this.deps.trippedSymbols(),
      this.deps.exchange.balances(),
      this.btcChange(),
    ]);
    const free = new Map(balances.map((b) => [b.asset, b.free]));
    const gridIds = [...new Set(orders.map((o) => o.gridId))];
    const grids = new Map(
      (
        (await ds.query(`SELECT id, status, stop_loss FROM grid WHERE id = ANY($1)`, [gridIds])) as {
          id: string;
          status: string;
          stop_loss: string | null;
        }[]
      ).map((g) => [g.id, g]),
    );
    const counts = (await ds.query(
      `SELECT symbol, count(*)::int AS n FROM grid_order
        WHERE status = 'placed' AND NOT cancel_requested GROUP BY symbol`,
    )) as { symbol: string; n: number }[];
    const openBySymbol = new Map(counts.map((c) => [c.symbol, c.n]));
    const openTotal = counts.reduce((n, c) => n + c.n, 0);
    const positions = new Map(
      (
        (await ds.query(`SELECT symbol, SUM(base_qty) AS qty FROM grid GROUP BY symbol`)) as {
          symbol: string;
          qty: string;
        }[]
      ).map((p) => [p.symbol, p.qty]),
    );
    const verdicts: PreTradeVerdict[] = [];
    for (const order of orders) {
      const grid = grids.get(order.gridId);
      const last = (await this.deps.prices.get(order.symbol))?.price ?? null;
      const instrument = this.deps.exchange.instrument(order.symbol) as MarketInstrument | undefined;
      const spends = order.side === 'buy' ? instrument?.quoteAsset : instrument?.baseAsset;
      verdicts.push(
        preTradeCheck(
          order,
          {
            killed,
            // Exit orders go out after the grid has stopped: a stopped grid may still sell what it holds.
            gridRunning: grid?.status === 'running' || (order.side === 'sell' && order.price === null),
            lastPrice: last,
            stopLoss: grid?.stop_loss ?? null,
            volatilityTripped: tripped.includes(order.symbol),
            btcChangePct: order.symbol.startsWith('BTC') ? null : btc,
            openOrdersOnSymbol: openBySymbol.get(order.symbol) ?? 0,
            openOrdersTotal: openTotal,
            positionQuote: last ? new Dec(positions.get(order.symbol) ?? 0).times(last).toFixed() : '0',
            freeBalance: (spends && free.get(spends)) ?? '0',
          },
          limits,
        ),
      );
    }
    return verdicts;
  }

  /** BTC's change over the lookback, from the stored 1-minute candles; null when they are not there. */
  private async btcChange(): Promise<string | null> {
    const rows = (await this.deps.ds.query(
      `(SELECT close FROM ohlcv WHERE symbol = 'BTCUSDT' AND interval = '1'
          AND open_time <= now() - ($1 || ' milliseconds')::interval ORDER BY open_time DESC LIMIT 1)
       UNION ALL
       (SELECT close FROM ohlcv WHERE symbol = 'BTCUSDT' AND interval = '1' ORDER BY open_time DESC LIMIT 1)`,
      [this.deps.limits.btcLookbackMs],
    )) as { close: string }[];
    return rows.length === 2 ? changePct(rows[0]!.close, rows[1]!.close) : null;
  }
}
