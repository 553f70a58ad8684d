import type { DataSource, EntityManager } from 'typeorm';
import { withTransaction } from '../../db/transactions.js';
import { segmentCross } from '../../engine/matching.js';
import { Dec, decText, isMultipleOf } from '../../engine/money.js';
import type {
  Balance,
  CancelOutcome,
  Exchange,
  ExchangeOrder,
  Execution,
  ExecutionListener,
  MarketInstrument,
  PlaceOrderRequest,
  PlaceOutcome,
} from '../exchange.js';

export interface PaperExchangeOptions {
  readonly instruments: readonly MarketInstrument[];
  readonly makerFee: string;
  readonly takerFee: string;
  /** Quote balance credited the first time the exchange starts on an empty database, per quote asset. */
  readonly openingQuoteBalance: string;
}

interface OrderRow {
  client_order_id: string;
  exchange_order_id: string;
  symbol: string;
  side: 'buy' | 'sell';
  type: 'limit' | 'market';
  price: string | null;
  quantity: string;
  filled: string;
  locked: string;
  status: 'open' | 'filled' | 'cancelled' | 'rejected';
}

interface ExecutionRow {
  seq: string;
  exec_id: string;
  client_order_id: string;
  exchange_order_id: string;
  symbol: string;
  side: 'buy' | 'sell';
  price: string;
  quantity: string;
  fee: string;
  fee_currency: string;
  is_maker: boolean;
  executed_at: Date;
}

/**
 * A simulated exchange whose book and balances live in Postgres tables of their own, so they outlive a crash of the
 * bot as a real exchange would. Orders fill by the engine's fill model (engine/matching.ts: segmentCross): on each
 * price update the path from the last price to the new one fills every resting order it crosses, at the order's own
 * price, with the maker fee; a market order (or a limit that crosses the last price) fills at once with the taker
 * fee. Fees are taken as Bybit spot takes them (see spotFeeInBase): a buy's in the base coin, a sell's in quote, so
 * paper P/L predicts live P/L.
 */
export class PaperExchange implements Exchange {
  readonly name = 'paper';
  // The paper exchange sets no cap, so that load tests can run hundreds of grids.
  readonly maxOpenOrders = null;
  private readonly instruments: Map<string, MarketInstrument>;
  private readonly listeners: ExecutionListener[] = [];

  constructor(
    private readonly ds: DataSource,
    private readonly options: PaperExchangeOptions,
  ) {
    this.instruments = new Map(options.instruments.map((i) => [i.symbol, i]));
  }

  /** Creates the balance rows once; an existing account keeps its balances. */
  async open(): Promise<void> {
    const quotes = new Set(this.options.instruments.map((i) => i.quoteAsset));
    const bases = new Set(this.options.instruments.map((i) => i.baseAsset));
    for (const asset of quotes) {
      await this.ds.query(
        `INSERT INTO paper_balance (asset, total, locked) VALUES ($1, $2, 0) ON CONFLICT (asset) DO NOTHING`,
        [asset, this.options.openingQuoteBalance],
      );
    }
    for (const asset of bases) {
      await this.ds.query(
        `INSERT INTO paper_balance (asset, total, locked) VALUES ($1, 0, 0) ON CONFLICT (asset) DO NOTHING`,
        [asset],
      );
    }
  }

  instrument(symbol: string): MarketInstrument | undefined {
    return this.instruments.get(symbol);
  }

  onExecutions(listener: ExecutionListener, options: { first?: boolean } = {}): void {
    if (options.first) this.listeners.unshift(listener);
    else this.listeners.push(listener);
  }

  async placeOrder(request: PlaceOrderRequest): Promise<PlaceOutcome> {
    const instrument = this.instruments.get(request.symbol);
    if (!instrument)
      return { kind: 'rejected', reason: 'unknown-symbol', message: `unknown symbol ${request.symbol}` };
    const refusal = this.validate(request, instrument);
    let last: Dec | null = null;
    if (request.type === 'market') {
      const [market] = (await this.ds.query(`SELECT last_price FROM paper_market WHERE symbol = $1`, [
        request.symbol,
      ])) as {
        last_price: string;
      }[];
      last = market ? new Dec(market.last_price) : null;
    }
    const qty = new Dec(request.qty);
    // Funds are held while the order rests: the notional in quote for a buy, the base for a sell. A buy's fee comes
    // out of the base it receives (a rebate, in quote, only adds), so no quote is held for it.
    const hold =
      request.side === 'buy' ? qty.times(request.type === 'market' ? (last ?? 0) : request.price!) : qty;
    const asset = request.side === 'buy' ? instrument.quoteAsset : instrument.baseAsset;
    // One statement, so the common case (a resting limit order) is one round trip: record the order, hold its funds,
    // and read the market price, atomically. The rare cases (already placed, short of funds, crossing) follow.
    const [order] = (await this.ds.query(
      `WITH o AS (
         INSERT INTO paper_order (client_order_id, exchange_order_id, symbol, side, type, price, quantity, locked,
                                  status, reject_reason)
         VALUES ($1, 'p-' || $1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (client_order_id) DO NOTHING
         RETURNING *),
       held AS (
         UPDATE paper_balance b SET locked = b.locked + $7 FROM o
          WHERE b.asset = $10 AND o.status = 'open' AND b.total - b.locked >= $7::numeric
          RETURNING 1)
       SELECT o.*, (SELECT count(*) FROM held)::int AS held,
              (SELECT last_price FROM paper_market WHERE symbol = $2) AS last_price
         FROM o`,
      [
        request.clientOrderId,
        request.symbol,
        request.side,
        request.type,
        request.price,
        request.qty,
        refusal ? '0' : decText(hold),
        refusal ? 'rejected' : 'open',
        refusal ? `${refusal.reason}: ${refusal.message}` : null,
        asset,
      ],
    )) as (OrderRow & { held: number; last_price: string | null })[];
    if (!order) {
      const [[existing]] = (await this.ds.query(
        `UPDATE paper_order SET place_requests = place_requests + 1 WHERE client_order_id = $1 RETURNING *`,
        [request.clientOrderId],
      )) as [OrderRow[], number];
      return {
        kind: 'already-placed',
        exchangeOrderId: existing!.exchange_order_id,
        status: existing!.status,
      };
    }
    if (refusal) return { kind: 'rejected', ...refusal };
    if (order.held === 0) {
      return this.reject(order, 'insufficient-balance', `insufficient ${asset}: ${decText(hold)} needed`);
    }
    last ??= order.last_price === null ? null : new Dec(order.last_price);
    const crosses =
      request.type === 'market' ||
      (last !== null &&
        (request.side === 'buy' ? new Dec(request.price!).gte(last) : new Dec(request.price!).lte(last)));
    if (!crosses) return { kind: 'placed', exchangeOrderId: order.exchange_order_id };
    if (last === null) return this.reject(order, 'no-price', `no market price for ${request.symbol} yet`);
    // A market order, or a limit priced through the market: it takes liquidity at once, at the taker fee.
    const price = request.type === 'market' ? last : new Dec(request.price!);
    const executions: ExecutionRow[] = [];
    await withTransaction(this.ds, async (m) => {
      executions.length = 0;
      const [open] = (await m.query(
        `SELECT * FROM paper_order WHERE client_order_id = $1 AND status = 'open' FOR UPDATE`,
        [order.client_order_id],
      )) as OrderRow[];
      if (open) executions.push(await this.fill(m, open, instrument, price, false));
    });
    await this.publish(executions);
    return { kind: 'placed', exchangeOrderId: order.exchange_order_id };
  }

  async cancelOrder(_symbol: string, clientOrderId: string): Promise<CancelOutcome> {
    return withTransaction(this.ds, async (m) => {
      const [order] = (await m.query(`SELECT * FROM paper_order WHERE client_order_id = $1 FOR UPDATE`, [
        clientOrderId,
      ])) as OrderRow[];
      if (!order) return { kind: 'unknown' } as const;
      if (order.status !== 'open') return { kind: 'not-open', status: order.status } as const;
      const instrument = this.instruments.get(order.symbol)!;
      const asset = order.side === 'buy' ? instrument.quoteAsset : instrument.baseAsset;
      await m.query(`UPDATE paper_balance SET locked = locked - $2 WHERE asset = $1`, [asset, order.locked]);
      await m.query(
        `UPDATE paper_order SET status = 'cancelled', locked = 0, updated_at = now() WHERE client_order_id = $1`,
        [clientOrderId],
      );
      return { kind: 'cancelled' } as const;
    });
  }

  /** Every open order of the symbol cancelled in one transaction, holds released. */
  async cancelAll(symbol: string): Promise<number> {
    const instrument = this.instruments.get(symbol);
    if (!instrument) return 0;
    return withTransaction(this.ds, async (m) => {
      await this.lockBalances(m, instrument);
      const released = (await m.query(
        `WITH open AS (
           SELECT client_order_id, side, locked FROM paper_order WHERE symbol = $1 AND status = 'open' FOR UPDATE),
         cancelled AS (
           UPDATE paper_order p SET status = 'cancelled', locked = 0, updated_at = now()
             FROM open WHERE p.client_order_id = open.client_order_id
           RETURNING open.side, open.locked)
         SELECT side, COALESCE(SUM(locked), 0) AS released, count(*)::int AS n FROM cancelled GROUP BY side`,
        [symbol],
      )) as { side: 'buy' | 'sell'; released: string; n: number }[];
      for (const r of released) {
        const asset = r.side === 'buy' ? instrument.quoteAsset : instrument.baseAsset;
        await m.query(`UPDATE paper_balance SET locked = locked - $2 WHERE asset = $1`, [asset, r.released]);
      }
      return released.reduce((n, r) => n + r.n, 0);
    });
  }

  async getOrder(clientOrderId: string): Promise<ExchangeOrder | null> {
    const rows = (await this.ds.query(`SELECT * FROM paper_order WHERE client_order_id = $1`, [
      clientOrderId,
    ])) as OrderRow[];
    return rows[0] ? toExchangeOrder(rows[0]) : null;
  }

  async openOrders(symbol?: string): Promise<ExchangeOrder[]> {
    const rows = (await this.ds.query(
      symbol
        ? `SELECT * FROM paper_order WHERE status = 'open' AND symbol = $1 ORDER BY created_at`
        : `SELECT * FROM paper_order WHERE status = 'open' ORDER BY created_at`,
      symbol ? [symbol] : [],
    )) as OrderRow[];
    return rows.map(toExchangeOrder);
  }

  async executionsAfter(cursor: string | null, limit: number): Promise<Execution[]> {
    const rows = (await this.ds.query(`SELECT * FROM paper_execution WHERE seq > $1 ORDER BY seq LIMIT $2`, [
      cursor ?? '0',
      limit,
    ])) as ExecutionRow[];
    return rows.map(toExecution);
  }

  async balances(): Promise<Balance[]> {
    const rows = (await this.ds.query(`SELECT asset, total, locked FROM paper_balance ORDER BY asset`)) as {
      asset: string;
      total: string;
      locked: string;
    }[];
    return rows.map((r) => ({
      asset: r.asset,
      total: r.total,
      free: decText(new Dec(r.total).minus(r.locked)),
    }));
  }

  /**
   * The exchange sees a new price. Prices carry a sequence number per symbol: a stale one (delivered late) is
   * ignored, so the book always walks forward along the path.
   */
  async onPrice(symbol: string, seq: number, price: string): Promise<Execution[]> {
    const instrument = this.instruments.get(symbol);
    if (!instrument) return [];
    const executions: ExecutionRow[] = [];
    await withTransaction(this.ds, async (m) => {
      executions.length = 0;
      // Creates the symbol's row on its first price, and locks it: one price at a time walks a symbol's book.
      const [market] = (await m.query(
        `INSERT INTO paper_market (symbol, last_price, last_seq) VALUES ($1, $2, 0)
         ON CONFLICT (symbol) DO UPDATE SET symbol = EXCLUDED.symbol RETURNING last_price, last_seq`,
        [symbol, price],
      )) as { last_price: string; last_seq: string }[];
      if (Number(market!.last_seq) >= seq) return;
      // The engine's fill model decides which resting orders the move fills (side, inclusive price range, order met);
      // the book's index finds them.
      const cross = segmentCross(market!.last_price, price, (x, y) => new Dec(x).cmp(y));
      const crossed: OrderRow[] = cross
        ? await m.query(CROSSED[cross.side], [symbol, cross.low, cross.high])
        : [];
      if (crossed.length > 0) await this.lockBalances(m, instrument);
      for (const order of crossed) {
        executions.push(await this.fill(m, order, instrument, new Dec(order.price!), true, true));
      }
      await m.query(
        `UPDATE paper_market SET last_price = $2, last_seq = $3, updated_at = now() WHERE symbol = $1`,
        [symbol, price, seq],
      );
    });
    await this.publish(executions);
    return executions.map(toExecution);
  }

  private validate(
    request: PlaceOrderRequest,
    instrument: MarketInstrument,
  ): { reason: 'off-tick' | 'off-step' | 'below-minimum'; message: string } | null {
    const qty = new Dec(request.qty);
    if (!isMultipleOf(qty, new Dec(instrument.qtyStep))) {
      return {
        reason: 'off-step',
        message: `quantity ${request.qty} is not a multiple of ${instrument.qtyStep}`,
      };
    }
    if (qty.lt(instrument.minQty)) {
      return {
        reason: 'below-minimum',
        message: `quantity ${request.qty} is below the minimum ${instrument.minQty}`,
      };
    }
    if (request.type === 'limit') {
      const price = new Dec(request.price!);
      if (!isMultipleOf(price, new Dec(instrument.tickSize))) {
        return {
          reason: 'off-tick',
          message: `price ${request.price} is not a multiple of ${instrument.tickSize}`,
        };
      }
      if (price.times(qty).lt(instrument.minValue)) {
        return {
          reason: 'below-minimum',
          message: `order value is below the minimum ${instrument.minValue}`,
        };
      }
    }
    return null;
  }

  /** Refuses an order already recorded as open: it releases whatever it held and answers why. */
  private async reject(
    order: OrderRow & { held: number },
    reason: Extract<PlaceOutcome, { kind: 'rejected' }>['reason'],
    message: string,
  ): Promise<PlaceOutcome> {
    await withTransaction(this.ds, async (m) => {
      const instrument = this.instruments.get(order.symbol)!;
      const asset = order.side === 'buy' ? instrument.quoteAsset : instrument.baseAsset;
      if (order.held > 0)
        await m.query(`UPDATE paper_balance SET locked = locked - $2 WHERE asset = $1`, [
          asset,
          order.locked,
        ]);
      await m.query(
        `UPDATE paper_order SET status = 'rejected', locked = 0, reject_reason = $2 WHERE client_order_id = $1`,
        [order.client_order_id, `${reason}: ${message}`],
      );
    });
    return { kind: 'rejected', reason, message };
  }

  /** Both balance rows of a pair, locked in one order everywhere, so that concurrent fills cannot deadlock. */
  private async lockBalances(m: EntityManager, instrument: MarketInstrument): Promise<void> {
    await m.query(`SELECT asset FROM paper_balance WHERE asset = ANY($1) ORDER BY asset FOR UPDATE`, [
      [instrument.baseAsset, instrument.quoteAsset],
    ]);
  }

  /** Fills an order whole at a price: moves the balances, releases the hold, records the execution. */
  private async fill(
    m: EntityManager,
    order: OrderRow,
    instrument: MarketInstrument,
    price: Dec,
    isMaker: boolean,
    balancesLocked = false,
  ): Promise<ExecutionRow> {
    const qty = new Dec(order.quantity);
    const notional = qty.times(price);
    const rate = new Dec(isMaker ? this.options.makerFee : this.options.takerFee);
    const inBase = spotFeeInBase(order.side, isMaker, rate);
    // Exact, not rounded: protocols.md (1.7) says a spot buy of q credits q − fee, and states no rounding of the
    // fee; the Bybit fake (test/fakes/bybit) charges qty × rate exactly too. Whatever is left below a quantity step
    // is the grid's dust, which the engine keeps and counts in equity (as on Bybit, where the sell leg sells the net
    // received quantity rounded down to basePrecision).
    const fee = (inBase ? qty : notional).times(rate);
    const { baseAsset: base, quoteAsset: quote } = instrument;
    if (!balancesLocked) await this.lockBalances(m, instrument);
    const buy = order.side === 'buy';
    // Buy: quote pays the notional and its hold is released; base grows. Sell: base and its hold shrink; quote
    // receives the notional. The fee then comes out of the coin it is taken in.
    const baseMove = (buy ? qty : qty.neg()).minus(inBase ? fee : 0);
    const quoteMove = (buy ? notional.neg() : notional).minus(inBase ? 0 : fee);
    await m.query(
      `UPDATE paper_balance SET total = total + CASE asset WHEN $1 THEN $3::numeric ELSE $4::numeric END,
              locked = locked - CASE asset WHEN $1 THEN $5::numeric ELSE $6::numeric END
        WHERE asset IN ($1, $2)`,
      [
        base,
        quote,
        decText(baseMove),
        decText(quoteMove),
        buy ? '0' : decText(qty),
        buy ? order.locked : '0',
      ],
    );
    const [row] = (await m.query(
      `WITH filled AS (
         UPDATE paper_order SET status = 'filled', filled = quantity, locked = 0, updated_at = now()
          WHERE client_order_id = $1 RETURNING client_order_id, exchange_order_id, symbol, side, quantity)
       INSERT INTO paper_execution (exec_id, client_order_id, exchange_order_id, symbol, side, price, quantity, fee,
         fee_currency, is_maker, executed_at)
       SELECT client_order_id || '-f', client_order_id, exchange_order_id, symbol, side, $2, quantity, $3, $4, $5,
              clock_timestamp()
         FROM filled
       RETURNING *`,
      [order.client_order_id, decText(price), decText(fee), inBase ? base : quote, isMaker],
    )) as ExecutionRow[];
    return row!;
  }

  private async publish(rows: readonly ExecutionRow[]): Promise<void> {
    if (rows.length === 0) return;
    const executions = rows.map(toExecution);
    for (const listener of this.listeners) await listener(executions);
  }
}

/**
 * The coin Bybit spot takes a fee in (protocols.md 1.7, "Spot fee coin"): a buy pays in the base coin, a sell in
 * quote; with a negative maker rate (a rebate) a maker buy gets it in quote and a maker sell in base.
 */
export function spotFeeInBase(side: 'buy' | 'sell', isMaker: boolean, rate: Dec): boolean {
  const rebate = isMaker && rate.isNegative();
  return side === 'buy' ? !rebate : rebate;
}

/**
 * The resting limits of one side whose price lies in [$2, $3], in the order matching.ts's segmentCross says the path
 * meets them (buys highest first, sells lowest first), locked for the fill. The partial index paper_order_book
 * serves both.
 */
const CROSSED: Readonly<Record<'buy' | 'sell', string>> = {
  buy: `SELECT * FROM paper_order WHERE symbol = $1 AND status = 'open' AND side = 'buy' AND type = 'limit'
             AND price >= $2 AND price <= $3 ORDER BY price DESC FOR UPDATE`,
  sell: `SELECT * FROM paper_order WHERE symbol = $1 AND status = 'open' AND side = 'sell' AND type = 'limit'
             AND price >= $2 AND price <= $3 ORDER BY price ASC FOR UPDATE`,
};

function toExchangeOrder(r: OrderRow): ExchangeOrder {
  return {
    clientOrderId: r.client_order_id,
    exchangeOrderId: r.exchange_order_id,
    symbol: r.symbol,
    side: r.side,
    type: r.type,
    price: r.price,
    qty: r.quantity,
    filled: r.filled,
    status: r.status,
  };
}

function toExecution(r: ExecutionRow): Execution {
  return {
    execId: r.exec_id,
    cursor: String(r.seq),
    clientOrderId: r.client_order_id,
    exchangeOrderId: r.exchange_order_id,
    symbol: r.symbol,
    side: r.side,
    price: decText(r.price),
    qty: decText(r.quantity),
    fee: decText(r.fee),
    feeCurrency: r.fee_currency,
    isMaker: r.is_maker,
    executedAt: new Date(r.executed_at),
  };
}
