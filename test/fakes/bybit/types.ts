/** Public types of the fake Bybit v5 spot REST server (see server.ts). Shapes follow protocols.md 1.6. */

export interface FakeBybitInstrument {
  symbol: string;
  baseCoin: string;
  quoteCoin: string;
  tickSize: string;
  basePrecision: string;
  minOrderQty: string;
  minOrderAmt: string;
  /** Step of quote-denominated amounts (market buy by value); default '0.00000001' as for BTCUSDT. */
  quotePrecision?: string;
}

export interface FakeBybitOptions {
  apiKey: string;
  apiSecret: string;
  instruments: FakeBybitInstrument[];
  /** coin -> wallet balance, e.g. { USDT: '100000' } */
  balances: Record<string, string>;
  /** default '0.001' */
  makerFeeRate?: string;
  /** default '0.001' */
  takerFeeRate?: string;
  /** Server clock in ms (default Date.now). Signed timestamps, order and execution times and candles use it. */
  now?: () => number;
  /** Per-UID limit on each order create/cancel endpoint in a rolling second of wall time, default 20. */
  rateLimitPerSecond?: number;
  /** Per-IP limit in a rolling 5 s of wall time; past it every request gets HTTP 403 (default 600, as Bybit). */
  ipLimitPer5s?: number;
  /** What GET /v5/user/query-api says of the key (default: read-write, Spot trade only, bound to 127.0.0.1). */
  apiKeyInfo?: Partial<FakeBybitApiKeyInfo>;
}

/**
 * The key as GET /v5/user/query-api describes it (protocols.md 1.x). `unsupported` answers the endpoint as an unknown
 * path (HTTP 404), as an environment that does not serve it might (Bybit's demo trading does not list it).
 */
export interface FakeBybitApiKeyInfo {
  /** 0 read and write, 1 read only. */
  readOnly: 0 | 1;
  /** Groups of permissions; the ones not given are sent as []. */
  permissions: Record<string, string[]>;
  /** Bound IPs; ["*"] when none is bound. */
  ips: string[];
  /** Days left; default 90 for a key bound to no IP, -1 otherwise (Bybit sends it only for expiring keys). */
  deadlineDay: number | undefined;
  unsupported: boolean;
}

export type FakeBybitSide = 'Buy' | 'Sell';
export type FakeBybitOrderType = 'Limit' | 'Market';
export type FakeBybitOrderStatus = 'New' | 'PartiallyFilled' | 'Filled' | 'Cancelled' | 'Rejected';

/** An order as GET /v5/order/realtime returns it (numbers as strings, times as ms strings). */
export interface FakeBybitOrder {
  orderId: string;
  orderLinkId: string;
  blockTradeId: string;
  symbol: string;
  price: string;
  qty: string;
  side: FakeBybitSide;
  isLeverage: string;
  positionIdx: number;
  orderStatus: FakeBybitOrderStatus;
  cancelType: string;
  rejectReason: string;
  avgPrice: string;
  leavesQty: string;
  leavesValue: string;
  cumExecQty: string;
  cumExecValue: string;
  cumExecFee: string;
  cumFeeDetail: Record<string, string>;
  timeInForce: string;
  orderType: FakeBybitOrderType;
  stopOrderType: string;
  orderIv: string;
  marketUnit: string;
  triggerPrice: string;
  takeProfit: string;
  stopLoss: string;
  tpslMode: string;
  ocoTriggerBy: string;
  tpLimitPrice: string;
  slLimitPrice: string;
  tpTriggerBy: string;
  slTriggerBy: string;
  triggerDirection: number;
  triggerBy: string;
  lastPriceOnCreated: string;
  basePrice: string;
  reduceOnly: boolean;
  closeOnTrigger: boolean;
  placeType: string;
  smpType: string;
  smpGroup: number;
  smpOrderId: string;
  createdTime: string;
  updatedTime: string;
}

/** A fill as GET /v5/execution/list returns it. */
export interface FakeBybitExecution {
  symbol: string;
  orderId: string;
  orderLinkId: string;
  side: FakeBybitSide;
  orderPrice: string;
  orderQty: string;
  leavesQty: string;
  createType: string;
  orderType: FakeBybitOrderType;
  stopOrderType: string;
  execFee: string;
  execId: string;
  execPrice: string;
  execQty: string;
  execType: 'Trade';
  execValue: string;
  execTime: string;
  feeCurrency: string;
  isMaker: boolean;
  feeRate: string;
  tradeIv: string;
  markIv: string;
  markPrice: string;
  indexPrice: string;
  underlyingPrice: string;
  blockTradeId: string;
  closedSize: string;
  seq: number;
  extraFees: string;
}

export interface FakeBybitFaults {
  /** Probability 0..1 that a request gets HTTP 503 (body 'service unavailable') WITHOUT being processed. */
  http5xx: number;
  /** Probability that the request IS processed, then answered 503 (the client cannot know). */
  http5xxAfterProcessing: number;
  /** Delay before handling every request. */
  slowMs: number;
  /** When true every /v5/order/* endpoint answers retCode 10006 'Too many visits!'. */
  rateLimited: boolean;
}

export interface FakeBybitRequestLogEntry {
  method: string;
  /** Path without the query string. */
  path: string;
  /** retCode of the envelope the server produced (also when a 5xx fault then hid it); null if none. */
  retCode: number | null;
  /** HTTP status actually sent. */
  httpStatus: number;
}

/** Control of the WebSocket streams (ws.ts) for tests. */
export interface FakeBybitWsControls {
  /** Closes every open WebSocket connection now (code 1006-like abrupt close: terminate()). */
  dropAll(): void;
  /** Probability 0..1 that each private execution message is sent twice. */
  duplicateExecutions: number;
  /** When true, private messages are held and released in reverse order at the next flush (out-of-order delivery). */
  reorder: boolean;
  /** Releases held messages (reversed). */
  flush(): void;
  /** Pushes a ticker with this lastPrice to public subscribers; the market itself (book, REST tickers) stays put. */
  badPrint(symbol: string, lastPrice: string): void;
  /** When true, new private connections are refused (HTTP 503 on upgrade): the stream is unusable. */
  refuse: boolean;
  /** Number of currently open connections, by path. */
  connections(): { public: number; private: number };
}

export interface FakeBybit {
  /** e.g. http://127.0.0.1:PORT */
  readonly url: string;
  /** ws://127.0.0.1:PORT/v5/public/spot: tickers.{SYMBOL} and orderbook.1.{SYMBOL}, pushed on every setPrice. */
  readonly wsPublicUrl: string;
  /** ws://127.0.0.1:PORT/v5/private: order(.spot), execution(.spot) and wallet, after auth. */
  readonly wsPrivateUrl: string;
  /** WebSocket fault injection and introspection. Nothing pushed while a client is disconnected is replayed. */
  ws: FakeBybitWsControls;
  /**
   * Moves the market: walks the path from the last price to `price`, filling resting limit orders it crosses (buys
   * when falling, sells when rising, each at its own price, maker fee), like the engine's fill model. The first call
   * just sets the price.
   */
  setPrice(symbol: string, price: string): void;
  /** Fault injection for the next requests. */
  faults: FakeBybitFaults;
  /** What GET /v5/user/query-api says of the key, changeable between requests. */
  apiKeyInfo: FakeBybitApiKeyInfo;
  /** Every order ever accepted, with status, in creation order. */
  orders(): FakeBybitOrder[];
  /** Every fill, oldest first. */
  executions(): FakeBybitExecution[];
  balances(): Record<string, { walletBalance: string; locked: string }>;
  requests(): FakeBybitRequestLogEntry[];
  close(): Promise<void>;
}
