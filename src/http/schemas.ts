import { z } from 'zod';
import { REFERENCE, REFERENCE_CHARS } from '../app/tradingview.js';
import { PNL_PERIODS } from '../app/views.js';

/*
 * The API's JSON, as scripts may rely on it: these schemas serialize every answer and generate the OpenAPI at /docs.
 * Money and prices are decimal strings (exact; parse them with a decimal library, not as floats).
 */

const money = (description: string) => z.string().meta({ description, example: '1234.5678' });
const nullableMoney = (description: string) => money(description).nullable();
const instant = z.string().meta({ description: 'ISO 8601, UTC', example: '2026-01-02T03:04:05.000Z' });

export const ErrorBody = z
  .object({
    error: z.string().meta({ description: 'What went wrong, for a human' }),
    code: z
      .string()
      .meta({ description: 'A stable word for scripts, such as not-found or conflict' })
      .optional(),
  })
  .meta({ id: 'Error' });

export const Grid = z
  .object({
    id: z.string().meta({ example: 'g4' }),
    name: z.string(),
    symbol: z.string().meta({ example: 'BTCUSDT' }),
    status: z.enum(['created', 'waiting', 'running', 'paused', 'stopped']),
    stopReason: z.string().nullable(),
    mode: z.enum(['arithmetic', 'geometric']),
    lower: money('Lowest line'),
    upper: money('Highest line'),
    grids: z.number().int().meta({ description: 'Intervals between the lines (lines = grids + 1)' }),
    investment: money('Quote committed to the grid'),
    stopLoss: nullableMoney('Stop-loss price'),
    takeProfit: nullableMoney('Take-profit price'),
    demo: z.boolean(),
    openOrders: z.number().int(),
    baseQty: money('Base held (the position)'),
    quoteBalance: money('Quote held'),
    realizedPnl: money('Realized grid profit, before fees'),
    fees: money('Fees paid, in quote'),
    unrealizedPnl: nullableMoney('Base at the last price less its cost; null without a price'),
    lastPrice: nullableMoney('Last price of the symbol'),
    createdAt: instant,
  })
  .meta({ id: 'Grid' });

export const GridList = z.object({ grids: z.array(Grid) });

export const CreateGridBody = z
  .object({
    name: z.string().optional(),
    symbol: z.string().meta({ example: 'ETHUSDT' }),
    lower: z.union([z.string(), z.number()]).meta({ description: 'Lowest line (a decimal string is exact)' }),
    upper: z.union([z.string(), z.number()]),
    grids: z.union([z.number().int(), z.string()]),
    mode: z.enum(['arithmetic', 'geometric']).optional(),
    investment: z.union([z.string(), z.number()]),
    stopLoss: z.union([z.string(), z.number()]).optional(),
    takeProfit: z.union([z.string(), z.number()]).optional(),
    start: z.boolean().optional().meta({ description: 'Start at once (default true)' }),
  })
  .meta({ id: 'CreateGrid' });

export const GridRef = z.object({
  symbol: z
    .string()
    .min(1)
    .max(64)
    .regex(REFERENCE, { error: `a grid reference may only hold ${REFERENCE_CHARS}` })
    .meta({ description: 'A grid id (g4), its name, or a symbol with exactly one grid not stopped' }),
});

export const Incident = z
  .object({
    id: z.string(),
    at: instant,
    trigger: z.string(),
    actor: z.string(),
    ordersOpenBefore: z.number().int(),
    ordersOpenAfter: z.number().int(),
    gridsStopped: z.number().int(),
    durationMs: z.number().int(),
    outcome: z.enum(['all-cancelled', 'exchange-unreachable', 'orders-left']),
    sellOff: z.string(),
  })
  .meta({ id: 'Incident' });

export const Risk = z
  .object({
    killed: z.boolean(),
    killedAt: instant.nullable(),
    trigger: z.string().nullable().meta({ description: 'What pulled the kill switch' }),
    drawdownPct: z.string().nullable().meta({ description: 'Drawdown from the equity peak, percent' }),
    drawdownLevel: z.string().nullable(),
    errorRate: z.string().nullable().meta({ description: 'Failed exchange calls in the window, percent' }),
    errorRateLevel: z.string().nullable(),
    equity: nullableMoney('Quote plus base at market, all grids'),
    peak: nullableMoney('Highest equity seen'),
    breakers: z.array(z.string()).meta({ description: 'Symbols whose volatility breaker is tripped' }),
    measuredAt: instant.nullable(),
    lastIncident: Incident.nullable(),
  })
  .meta({ id: 'Risk' });

export const ResetResult = Risk.pick({ killed: true });

export const KILL_DEFAULT_REASON = 'manual kill via API';
export const KillBody = z.object({
  reason: z
    .string()
    .max(200)
    .optional()
    .meta({ description: `Recorded as the trigger; "${KILL_DEFAULT_REASON}" when left out` }),
});

export const DeliveriesRetried = z.object({
  retried: z.number().int().meta({ description: 'Failed deliveries sent back to their queue' }),
});

export const Price = z.object({ symbol: z.string(), price: money('Last price'), at: instant });
export const PriceList = z.object({ prices: z.array(Price) });

export const Trade = z
  .object({
    at: instant,
    gridId: z.string(),
    symbol: z.string(),
    side: z.enum(['buy', 'sell']),
    price: money('Fill price'),
    qty: money('Base quantity'),
    fee: money('Fee, in feeCoin'),
    feeCoin: z.string().meta({ description: 'The coin the fee was taken in', example: 'USDT' }),
    feeCurrency: z.string().meta({ description: 'The same as feeCoin (its earlier name)' }),
    net: money('Realized grid profit of this fill less its fee, in quote'),
    execId: z.string().meta({ description: "The exchange's execution id" }),
    orderId: z
      .string()
      .nullable()
      .meta({ description: "The exchange's order id; null on an old fill whose order never learned it" }),
    clientOrderId: z
      .string()
      .meta({ description: "Our id of the order (Bybit's orderLinkId)", example: 'g4-3-2' }),
  })
  .meta({ id: 'Trade' });
export const TradeList = z.object({ trades: z.array(Trade) });
const tradeSymbol = z
  .string()
  .regex(/^[A-Za-z0-9]{2,20}$/)
  .transform((s) => s.toUpperCase());
export const TradeQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  symbol: tradeSymbol.optional(),
});
const bound = (description: string) =>
  z
    .union([z.iso.date(), z.iso.datetime({ offset: true })])
    .transform((s) => new Date(s))
    .optional()
    .meta({ description, example: '2026-01-01' });
export const TradeCsvQuery = z
  .object({
    symbol: tradeSymbol.optional(),
    from: bound('Fills executed at or after this time (a date alone is its 00:00 UTC)'),
    to: bound('Fills executed before this time (a date alone is its 00:00 UTC)'),
  })
  .refine((q) => !q.from || !q.to || q.from < q.to, { error: 'from must be before to' });

export const TradeCsv = z.string().meta({
  description: 'CSV, a header row then one fill per line',
  example:
    'time,grid,symbol,side,price,qty,fee,fee_coin,net,exec_id,order_id,client_order_id\r\n' +
    '2026-12-07T18:00:00.000Z,g4,BTCUSDT,buy,98000,0.0102,0.0000102,BTC,-0.9996,e1,o1,g4-3-2\r\n',
});

/** The columns of GET /api/trades.csv, in order. */
export const TRADE_CSV_COLUMNS = [
  'time',
  'grid',
  'symbol',
  'side',
  'price',
  'qty',
  'fee',
  'fee_coin',
  'net',
  'exec_id',
  'order_id',
  'client_order_id',
] as const;

export const Alert = z
  .object({
    id: z.string(),
    source: z.string(),
    externalId: z.string().nullable(),
    symbol: z.string().nullable(),
    action: z.string(),
    price: nullableMoney('The price the alert carried (informational)'),
    zone: z.string().nullable(),
    sender: z.string().nullable(),
    processed: z.boolean(),
    outcome: z.string().nullable().meta({ description: 'What the alert did to the grids' }),
    receivedAt: instant,
    processedAt: instant.nullable(),
  })
  .meta({ id: 'Alert' });
export const AlertList = z.object({ alerts: z.array(Alert) });
export const LimitQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) });

export const PnlQuery = z.object({ period: z.enum(PNL_PERIODS).default('day') });
export const Pnl = z
  .object({
    period: z.enum(PNL_PERIODS),
    fromMs: z.number().int(),
    toMs: z.number().int(),
    realized: money('Realized grid profit in the period'),
    fees: money('Fees in the period, in quote'),
    net: money('Realized less fees'),
    fills: z.number().int(),
    points: z.array(
      z.object({
        timeMs: z.number().int(),
        cumulativeNet: money('Realized less fees, all time up to the end of this bucket'),
        equity: nullableMoney('Equity as last measured in this bucket'),
      }),
    ),
    grids: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        symbol: z.string(),
        status: z.string(),
        periodNet: money('Realized less fees in the period'),
        periodFills: z.number().int(),
        totalNet: money('Realized less fees since the grid began'),
        unrealized: nullableMoney('Base at the last price less its cost'),
      }),
    ),
  })
  .meta({ id: 'Pnl' });

const Coin = z.object({
  id: z.string(),
  symbol: z.string(),
  name: z.string(),
  price: money('USD'),
  change24hPct: z.string().nullable(),
  marketCap: z.string().nullable(),
  volume24h: z.string().nullable(),
  rank: z.number().int().nullable(),
});
export const Market = z
  .object({
    available: z.boolean(),
    error: z.string().nullable(),
    top: z.array(Coin),
    gainers: z.array(Coin),
    losers: z.array(Coin),
    trending: z.array(
      z.object({
        id: z.string(),
        symbol: z.string(),
        name: z.string(),
        rank: z.number().int().nullable(),
        priceBtc: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'Market', description: 'CoinGecko market overview (USD), cached for a minute' });

export const WhoAmI = z.object({
  role: z.enum(['operator', 'readonly']),
  auth: z
    .enum(['token', 'none'])
    .meta({ description: 'none: API_TOKEN is unset and the server is loopback-only' }),
});
