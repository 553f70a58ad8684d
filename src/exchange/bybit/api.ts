import { z } from 'zod';
import type { MarketInstrument } from '../exchange.js';
import type { BybitRestClient } from './rest-client.js';

/** Bybit v5 spot endpoints a grid needs, typed. Every number Bybit sends is a string, and stays one. */
const num = z.string();

const Ticker = z.object({
  symbol: z.string(),
  lastPrice: num,
  bid1Price: num.optional(),
  ask1Price: num.optional(),
});
const Instrument = z.object({
  symbol: z.string(),
  baseCoin: z.string(),
  quoteCoin: z.string(),
  status: z.string(),
  lotSizeFilter: z.object({ basePrecision: num, minOrderQty: num.optional(), minOrderAmt: num }),
  priceFilter: z.object({ tickSize: num }),
});
export const BybitOrder = z.object({
  orderId: z.string(),
  orderLinkId: z.string(),
  symbol: z.string(),
  side: z.enum(['Buy', 'Sell']),
  orderType: z.enum(['Limit', 'Market']),
  price: num,
  qty: num,
  orderStatus: z.string(),
  cumExecQty: num,
  leavesQty: num,
  createdTime: num,
  updatedTime: num,
});
export type BybitOrder = z.infer<typeof BybitOrder>;
export const BybitExecution = z.object({
  execId: z.string(),
  orderId: z.string(),
  orderLinkId: z.string(),
  symbol: z.string(),
  side: z.enum(['Buy', 'Sell']),
  execPrice: num,
  execQty: num,
  execFee: num,
  feeCurrency: z.string(),
  isMaker: z.boolean(),
  execTime: num,
});
export type BybitExecution = z.infer<typeof BybitExecution>;
const Page = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ list: z.array(item), nextPageCursor: z.string().optional() });

export interface CreateOrder {
  readonly symbol: string;
  readonly side: 'Buy' | 'Sell';
  readonly orderType: 'Limit' | 'Market';
  readonly qty: string;
  readonly price?: string;
  readonly orderLinkId: string;
  readonly timeInForce?: 'GTC' | 'IOC' | 'FOK' | 'PostOnly';
  /** Market orders only: Bybit reads a market Buy's qty in quote unless told baseCoin. */
  readonly marketUnit?: 'baseCoin' | 'quoteCoin';
}

/**
 * GET /v5/user/query-api (protocols.md 1.x): what the key may do. Only the fields the key check reads are required;
 * Bybit adds permission groups over time, so any group is an array of strings.
 */
export const ApiKeyInfo = z.object({
  apiKey: z.string().optional(),
  readOnly: z.union([z.literal(0), z.literal(1)]),
  permissions: z.record(z.string(), z.array(z.string()).nullable()),
  ips: z.array(z.string()).default([]),
  /** Days left: only for a key bound to no IP (or after a password change). */
  deadlineDay: z.number().int().nullable().optional(),
  expiredAt: z.string().nullable().optional(),
});
export type ApiKeyInfo = z.infer<typeof ApiKeyInfo>;

export class BybitApi {
  constructor(private readonly rest: BybitRestClient) {}

  async serverTimeMs(): Promise<number> {
    const r = await this.rest.publicGet('/v5/market/time', {}, z.object({ timeNano: num }));
    return Math.floor(Number(BigInt(r.timeNano) / 1_000_000n));
  }

  async tickers(symbol?: string): Promise<z.infer<typeof Ticker>[]> {
    const r = await this.rest.publicGet('/v5/market/tickers', { category: 'spot', symbol }, Page(Ticker));
    return r.list;
  }

  /** Oldest first (Bybit answers newest first): [openTimeMs, open, high, low, close, volume]. */
  async klines(
    symbol: string,
    interval: string,
    range: { startMs?: number; endMs?: number; limit?: number } = {},
  ): Promise<[number, string, string, string, string, string][]> {
    const r = await this.rest.publicGet(
      '/v5/market/kline',
      {
        category: 'spot',
        symbol,
        interval,
        start: range.startMs,
        end: range.endMs,
        limit: range.limit ?? 1000,
      },
      z.object({ list: z.array(z.array(num).min(6)) }),
    );
    return r.list
      .map(
        (k) =>
          [Number(k[0]), k[1]!, k[2]!, k[3]!, k[4]!, k[5]!] as [
            number,
            string,
            string,
            string,
            string,
            string,
          ],
      )
      .reverse();
  }

  /**
   * The spot instruments, as the engine's filters: tick size, quantity step (basePrecision) and minimum order value
   * (minOrderAmt). Bybit no longer checks minOrderQty for spot, so the minimum quantity is one step.
   */
  async instruments(symbol?: string): Promise<MarketInstrument[]> {
    const r = await this.rest.publicGet(
      '/v5/market/instruments-info',
      { category: 'spot', symbol },
      Page(Instrument),
    );
    return r.list
      .filter((i) => i.status === 'Trading')
      .map((i) => ({
        symbol: i.symbol,
        baseAsset: i.baseCoin,
        quoteAsset: i.quoteCoin,
        tickSize: i.priceFilter.tickSize,
        qtyStep: i.lotSizeFilter.basePrecision,
        minQty: i.lotSizeFilter.basePrecision,
        minValue: i.lotSizeFilter.minOrderAmt,
      }));
  }

  createOrder(order: CreateOrder): Promise<{ orderId: string; orderLinkId: string }> {
    return this.rest.privatePost(
      '/v5/order/create',
      { category: 'spot', ...order },
      z.object({ orderId: z.string(), orderLinkId: z.string() }),
    );
  }

  /** Up to 10 spot orders in one call; each item's own outcome comes back as a retCode (0: accepted). */
  async createBatch(
    orders: readonly CreateOrder[],
  ): Promise<{ orderId: string; orderLinkId: string; retCode: number; retMsg: string }[]> {
    const envelope = await this.rest.privatePostEnvelope(
      '/v5/order/create-batch',
      { category: 'spot', request: orders },
      orders.length,
    );
    const result = z
      .object({ list: z.array(z.object({ orderId: z.string(), orderLinkId: z.string() })) })
      .parse(envelope.result);
    const codes = z
      .object({ list: z.array(z.object({ code: z.number(), msg: z.string() })) })
      .parse(envelope.retExtInfo);
    return result.list.map((item, i) => ({
      ...item,
      retCode: codes.list[i]?.code ?? -1,
      retMsg: codes.list[i]?.msg ?? '',
    }));
  }

  /** An order by client order id in the history (closed orders: 24 h for cancelled ones, 7 days for the rest). */
  async orderHistory(orderLinkId: string): Promise<BybitOrder[]> {
    const r = await this.rest.privateGet(
      '/v5/order/history',
      { category: 'spot', orderLinkId, limit: 50 },
      Page(BybitOrder),
    );
    return r.list;
  }

  cancelOrder(symbol: string, orderLinkId: string): Promise<{ orderId: string; orderLinkId: string }> {
    return this.rest.privatePost(
      '/v5/order/cancel',
      { category: 'spot', symbol, orderLinkId },
      z.object({ orderId: z.string(), orderLinkId: z.string() }),
    );
  }

  async cancelAll(symbol?: string): Promise<string[]> {
    const r = await this.rest.privatePost(
      '/v5/order/cancel-all',
      { category: 'spot', ...(symbol ? { symbol } : {}) },
      z.object({ list: z.array(z.object({ orderLinkId: z.string() })) }),
    );
    return r.list.map((o) => o.orderLinkId);
  }

  /** Every open order (all pages), or the one with this client order id (open or recently closed). */
  async orders(
    filter: { symbol?: string; orderLinkId?: string; openOnly?: boolean } = {},
  ): Promise<BybitOrder[]> {
    const out: BybitOrder[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.rest.privateGet(
        '/v5/order/realtime',
        {
          category: 'spot',
          symbol: filter.symbol,
          orderLinkId: filter.orderLinkId,
          openOnly: filter.openOnly === false ? 1 : 0,
          limit: 50,
          cursor,
        },
        Page(BybitOrder),
      );
      out.push(...page.list);
      cursor = page.nextPageCursor || undefined;
    } while (cursor);
    return out;
  }

  /** Executions since a time, oldest first (all pages; Bybit pages newest first). */
  async executions(
    filter: { symbol?: string; startTimeMs?: number; orderLinkId?: string } = {},
  ): Promise<BybitExecution[]> {
    const out: BybitExecution[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.rest.privateGet(
        '/v5/execution/list',
        {
          category: 'spot',
          symbol: filter.symbol,
          orderLinkId: filter.orderLinkId,
          startTime: filter.startTimeMs,
          limit: 100,
          cursor,
        },
        Page(BybitExecution),
      );
      out.push(...page.list);
      cursor = page.nextPageCursor || undefined;
    } while (cursor);
    return out.reverse();
  }

  /** What this API key may do: read-only or not, its permissions, its IP binding and its expiry. */
  apiKeyInfo(): Promise<ApiKeyInfo> {
    return this.rest.privateGet('/v5/user/query-api', {}, ApiKeyInfo);
  }

  async walletBalance(): Promise<{ coin: string; walletBalance: string; locked: string }[]> {
    const r = await this.rest.privateGet(
      '/v5/account/wallet-balance',
      { accountType: 'UNIFIED' },
      z.object({
        list: z.array(
          z.object({ coin: z.array(z.object({ coin: z.string(), walletBalance: num, locked: num })) }),
        ),
      }),
    );
    return r.list[0]?.coin ?? [];
  }
}
