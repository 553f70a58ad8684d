import { Dec, decText } from '../../engine/money.js';
import type {
  Balance,
  CancelOutcome,
  Exchange,
  ExchangeOrder,
  ExchangeOrderStatus,
  Execution,
  ExecutionListener,
  MarketInstrument,
  PlaceOrderRequest,
  PlaceOutcome,
  RejectReason,
} from '../exchange.js';
import type { BybitApi, BybitExecution, BybitOrder, CreateOrder } from './api.js';
import { BybitError, failureOfRetCode } from './errors.js';

/**
 * Bybit spot behind the same Exchange interface as the paper exchange. Our client order id is Bybit's orderLinkId,
 * so a placement whose answer was lost, or a duplicate, is settled by asking Bybit for that id. Bybit acknowledges
 * asynchronously: state comes from the execution stream (or polling), and the reconciler covers what either misses.
 */
export class BybitExchange implements Exchange {
  readonly name = 'bybit';
  /** Bybit caps open spot orders per account (protocols.md 1.6). */
  readonly maxOpenOrders = 500;
  private readonly listeners: ExecutionListener[] = [];
  private instruments = new Map<string, MarketInstrument>();

  readonly placeOrders?: (requests: readonly PlaceOrderRequest[]) => Promise<PlaceOutcome[]>;

  constructor(
    private readonly api: BybitApi,
    /** Bybit's demo trading has no spot batch endpoint. */
    options: { batch: boolean } = { batch: true },
  ) {
    if (options.batch) this.placeOrders = (requests) => this.placeInBatches(requests);
  }

  /** Loads the instruments' filters (tick, step, minimum order value) for the symbols the grids trade. */
  async open(symbols: readonly string[]): Promise<void> {
    const all = await this.api.instruments();
    this.instruments = new Map(all.filter((i) => symbols.includes(i.symbol)).map((i) => [i.symbol, i]));
    const missing = symbols.filter((s) => !this.instruments.has(s));
    if (missing.length) throw new Error(`Bybit does not list ${missing.join(', ')} as a trading spot symbol`);
  }

  instrument(symbol: string): MarketInstrument | undefined {
    return this.instruments.get(symbol);
  }

  onExecutions(listener: ExecutionListener, options: { first?: boolean } = {}): void {
    if (options.first) this.listeners.unshift(listener);
    else this.listeners.push(listener);
  }

  /** Hands executions to the listeners (the private stream and the poller call this). */
  async publish(executions: readonly BybitExecution[]): Promise<void> {
    if (executions.length === 0) return;
    const mapped = executions.map(toExecution);
    for (const listener of this.listeners) await listener(mapped);
  }

  async placeOrder(request: PlaceOrderRequest): Promise<PlaceOutcome> {
    try {
      const r = await this.api.createOrder(toCreateOrder(request));
      return { kind: 'placed', exchangeOrderId: r.orderId };
    } catch (e) {
      if (!(e instanceof BybitError)) throw e;
      const f = e.failure;
      if ((f.kind === 'rejected' && f.reason === 'duplicate-order') || f.kind === 'ambiguous') {
        // Already placed, or maybe placed: the order's fate is settled by its client order id before anything else.
        const existing = await this.getOrder(request.clientOrderId);
        if (existing)
          return {
            kind: 'already-placed',
            exchangeOrderId: existing.exchangeOrderId,
            status: existing.status,
          };
        throw e; // not there: the caller retries later, with the same id
      }
      if (f.kind === 'rejected')
        return { kind: 'rejected', reason: rejectReason(f.reason), message: e.message };
      throw e; // rate limits and credentials: retried with backoff, or stopped by the risk worker
    }
  }

  /**
   * Orders in batches of ten (Bybit's spot maximum). An item refused for a reason that is not final (rate limit,
   * server busy) or a batch whose answer is lost goes again alone, through placeOrder and its lookup by id.
   */
  private async placeInBatches(requests: readonly PlaceOrderRequest[]): Promise<PlaceOutcome[]> {
    const outcomes: PlaceOutcome[] = [];
    for (let i = 0; i < requests.length; i += 10) {
      const chunk = requests.slice(i, i + 10);
      let answers: Awaited<ReturnType<BybitApi['createBatch']>> | null = null;
      try {
        answers = await this.api.createBatch(chunk.map(toCreateOrder));
      } catch (e) {
        if (!(e instanceof BybitError)) throw e;
      }
      for (const [k, request] of chunk.entries()) {
        const answer = answers?.[k];
        if (answer && answer.retCode === 0) {
          outcomes.push({ kind: 'placed', exchangeOrderId: answer.orderId });
          continue;
        }
        const failure = answer ? failureOfRetCode(answer.retCode, null, Date.now()) : null;
        if (failure?.kind === 'rejected' && failure.reason !== 'duplicate-order') {
          outcomes.push({ kind: 'rejected', reason: rejectReason(failure.reason), message: answer!.retMsg });
        } else {
          outcomes.push(await this.placeOrder(request));
        }
      }
    }
    return outcomes;
  }

  async cancelOrder(symbol: string, clientOrderId: string): Promise<CancelOutcome> {
    try {
      await this.api.cancelOrder(symbol, clientOrderId);
      return { kind: 'cancelled' };
    } catch (e) {
      if (!(e instanceof BybitError)) throw e;
      if (e.failure.kind === 'rejected' && e.failure.reason === 'unknown-order') {
        const existing = await this.getOrder(clientOrderId);
        if (!existing) return { kind: 'unknown' };
        if (existing.status === 'open') throw e; // the book says open: try again
        return { kind: 'not-open', status: existing.status };
      }
      throw e;
    }
  }

  async cancelAll(symbol: string): Promise<number> {
    return (await this.api.cancelAll(symbol)).length;
  }

  async getOrder(clientOrderId: string): Promise<ExchangeOrder | null> {
    const open = await this.api.orders({ orderLinkId: clientOrderId });
    const found = open[0] ?? (await this.api.orders({ orderLinkId: clientOrderId, openOnly: false }))[0];
    return found ? toOrder(found) : null;
  }

  async openOrders(symbol?: string): Promise<ExchangeOrder[]> {
    return (await this.api.orders(symbol ? { symbol } : {})).map(toOrder);
  }

  /**
   * Executions at or after a cursor (an execution time in ms), oldest first. Executions of one millisecond can come
   * back again: the caller recognises them by execId.
   */
  async executionsAfter(cursor: string | null, limit: number): Promise<Execution[]> {
    const since = cursor === null ? undefined : Number(cursor);
    const list = await this.api.executions(since === undefined ? {} : { startTimeMs: since });
    return list.slice(0, limit).map(toExecution);
  }

  async balances(): Promise<Balance[]> {
    return (await this.api.walletBalance()).map((c) => ({
      asset: c.coin,
      total: decText(c.walletBalance || '0'),
      free: decText(new Dec(c.walletBalance || '0').minus(c.locked || '0')),
    }));
  }
}

function toCreateOrder(request: PlaceOrderRequest): CreateOrder {
  return {
    symbol: request.symbol,
    side: request.side === 'buy' ? 'Buy' : 'Sell',
    orderType: request.type === 'limit' ? 'Limit' : 'Market',
    qty: request.qty,
    ...(request.price !== null ? { price: request.price } : {}),
    orderLinkId: request.clientOrderId,
    // Our quantities are in the base coin; Bybit reads a market buy's qty in quote unless told otherwise.
    ...(request.type === 'market' ? { marketUnit: 'baseCoin' as const } : { timeInForce: 'GTC' as const }),
  };
}

function rejectReason(reason: string): RejectReason {
  switch (reason) {
    case 'insufficient-balance':
    case 'below-minimum':
    case 'off-tick':
    case 'off-step':
    case 'unknown-symbol':
      return reason;
    default:
      return 'other';
  }
}

function orderStatus(s: string): ExchangeOrderStatus {
  switch (s) {
    case 'New':
    case 'PartiallyFilled':
    case 'Untriggered':
      return 'open';
    case 'Filled':
      return 'filled';
    case 'Rejected':
      return 'rejected';
    default:
      // Cancelled, PartiallyFilledCanceled, Deactivated: off the book (its fills, if any, arrive as executions).
      return 'cancelled';
  }
}

function toOrder(o: BybitOrder): ExchangeOrder {
  return {
    clientOrderId: o.orderLinkId,
    exchangeOrderId: o.orderId,
    symbol: o.symbol,
    side: o.side === 'Buy' ? 'buy' : 'sell',
    type: o.orderType === 'Limit' ? 'limit' : 'market',
    price: o.orderType === 'Limit' ? decText(o.price) : null,
    qty: decText(o.qty),
    filled: decText(o.cumExecQty || '0'),
    status: orderStatus(o.orderStatus),
  };
}

function toExecution(e: BybitExecution): Execution {
  return {
    execId: e.execId,
    cursor: e.execTime,
    clientOrderId: e.orderLinkId,
    exchangeOrderId: e.orderId,
    symbol: e.symbol,
    side: e.side === 'Buy' ? 'buy' : 'sell',
    price: decText(e.execPrice),
    qty: decText(e.execQty),
    fee: decText(e.execFee || '0'),
    feeCurrency: e.feeCurrency,
    isMaker: e.isMaker,
    executedAt: new Date(Number(e.execTime)),
  };
}
