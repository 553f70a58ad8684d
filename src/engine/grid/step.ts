import { Dec, decText, priceText } from '../money.js';
import { assertNever } from '../result.js';
import type { GridCommand, GridEvent, GridNote, OrderPurpose } from './events.js';
import { planGrid } from './plan.js';
import type { BaseLot, Cell, GridState, OpenOrder, Side, StopReason } from './state.js';

export interface StepOutput {
  /** The state given, the very same object, when the event changed nothing (ignored, a repeat): nothing to write. */
  readonly state: GridState;
  readonly commands: readonly GridCommand[];
  readonly notes: readonly GridNote[];
}

/**
 * The grid engine: a pure step from (state, event) to (new state, commands). No I/O, no clock, no randomness: the same
 * events give the same commands and the same ledger, and an event applied twice (a fill with a known execId, a
 * repeated lifecycle command) changes nothing. The caller executes the commands; their client order ids are derived
 * from the grid id, the cell and the cell's order counter, so a retried placement is recognisably the same order.
 */
export function step(state: GridState, event: GridEvent): StepOutput {
  const run = new StepRun(state);
  run.apply(event);
  return run.output();
}

export function gridOrderId(gridId: string, cell: number, seq: number): string {
  return `${gridId}-${cell}-${seq}`;
}

/** All orders the grid believes are on the exchange. */
export function openOrders(state: GridState): OpenOrder[] {
  const out: OpenOrder[] = [];
  if (state.startOrder) out.push(state.startOrder);
  for (const cell of state.cells) if (cell.order) out.push(cell.order);
  if (state.exitOrder) out.push(state.exitOrder);
  return out;
}

class StepRun {
  private s: GridState;
  private cells: Cell[];
  private readonly commands: GridCommand[] = [];
  private readonly notes: GridNote[] = [];

  constructor(private readonly initial: GridState) {
    this.s = initial;
    this.cells = initial.cells.slice();
  }

  output(): StepOutput {
    // Every change replaces the state or a cell, never mutates one: untouched references mean nothing changed.
    const unchanged =
      this.s === this.initial &&
      this.cells.length === this.initial.cells.length &&
      this.cells.every((cell, c) => cell === this.initial.cells[c]);
    const state = unchanged ? this.initial : { ...this.s, cells: this.cells };
    return { state, commands: this.commands, notes: this.notes };
  }

  apply(event: GridEvent): void {
    switch (event.kind) {
      case 'start':
        return this.start(event.price);
      case 'price':
        return this.price(event.price);
      case 'fill':
        return this.fill(event);
      case 'cancelled':
        return this.cancelled(event.clientOrderId);
      case 'rejected':
        return this.rejected(event.clientOrderId, event.reason);
      case 'pause':
        return this.pause();
      case 'resume':
        return this.resume();
      case 'stop':
        return this.stop(event.by ?? 'manual');
      case 'sell-base':
        return this.sellBase();
      default:
        return assertNever(event);
    }
  }

  // --- lifecycle ---------------------------------------------------------

  private start(price: number): void {
    if (this.s.status !== 'created') return this.ignore('start', `the grid is ${this.s.status}`);
    const planned = planGrid(this.s.params, price);
    if (!planned.ok) {
      this.notes.push({ kind: 'invalid', message: planned.error.message });
      this.s = { ...this.s, status: 'stopped', stopReason: 'rejected-start' };
      return;
    }
    const plan = planned.value;
    const k = plan.gapLine;
    this.s = { ...this.s, plan, status: 'running', lastPrice: price };
    this.cells = [];
    for (let c = 0; c < plan.grids; c++) {
      this.cells.push({
        holds: c < k ? 'quote' : 'base',
        cycleLots: plan.qtyLots,
        progressLots: 0,
        base: [],
        seq: 0,
        order: null,
        awaitingStart: c >= k,
        rejected: null,
      });
    }
    this.notes.push({
      kind: 'started',
      gapLine: k,
      qtyPerGrid: decText(new Dec(plan.qtyStep).times(plan.qtyLots)),
    });
    this.placeStartOrderIfNeeded();
    for (let c = 0; c < k; c++) this.placeCellOrder(c);
  }

  private pause(): void {
    if (this.s.status !== 'running') return this.ignore('pause', `the grid is ${this.s.status}`);
    this.s = { ...this.s, status: 'paused' };
    this.cancelAll();
  }

  private resume(): void {
    if (this.s.status !== 'paused') return this.ignore('resume', `the grid is ${this.s.status}`);
    this.s = { ...this.s, status: 'running' };
    this.placeStartOrderIfNeeded();
    for (let c = 0; c < this.cells.length; c++) {
      const cell = this.cells[c]!;
      if (cell.rejected !== null) this.cells[c] = { ...cell, rejected: null };
      if (cell.order === null && !cell.awaitingStart) this.placeCellOrder(c);
    }
  }

  private stop(reason: StopReason): void {
    if (this.s.status === 'stopped') return this.ignore('stop', 'the grid is already stopped');
    this.s = { ...this.s, status: 'stopped', stopReason: reason };
    this.cancelAll();
    this.notes.push({ kind: 'stopped', reason });
    if (reason === 'stop-loss' || reason === 'take-profit') this.placeExitIfNeeded();
  }

  private sellBase(): void {
    if (this.s.status !== 'stopped') return this.ignore('sell-base', `the grid is ${this.s.status}`);
    if (!this.s.sellingOff) this.s = { ...this.s, sellingOff: true };
    this.placeExitIfNeeded();
  }

  private price(price: number): void {
    if (this.s.lastPrice !== price) this.s = { ...this.s, lastPrice: price };
    const plan = this.s.plan;
    if (!plan || (this.s.status !== 'running' && this.s.status !== 'paused')) return;
    if (plan.stopLoss !== null && price <= plan.stopLoss) this.stop('stop-loss');
    else if (plan.takeProfit !== null && price >= plan.takeProfit) this.stop('take-profit');
  }

  // --- order events ------------------------------------------------------

  private fill(event: Extract<GridEvent, { kind: 'fill' }>): void {
    const found = this.findOrder(event.clientOrderId);
    if (!found) {
      this.notes.push({ kind: 'unknown-order', clientOrderId: event.clientOrderId });
      return;
    }
    const { order } = found;
    if (order.execIds.includes(event.execId)) {
      this.notes.push({ kind: 'duplicate-fill', execId: event.execId });
      return;
    }
    if (event.lots <= 0 || order.filledLots + event.lots > order.lots) {
      this.notes.push({ kind: 'overfill', clientOrderId: event.clientOrderId, execId: event.execId });
      return;
    }
    const fee =
      event.fee !== undefined ? new Dec(event.fee) : this.feeFor(found.purpose, event.price, event.lots);
    const filled: OpenOrder = {
      ...order,
      filledLots: order.filledLots + event.lots,
      execIds: [...order.execIds, event.execId],
    };
    const done = filled.filledLots === filled.lots;
    const notional = this.notional(event.price, event.lots);
    let receivedLots = event.lots;
    if (event.feeCurrency === 'base') {
      // The fee came out of the coin itself: whole lots go to the cell, the fraction to the dust. In the ledger the
      // fee is valued in quote at the fill's price, so fees and profit stay in one currency.
      const step = new Dec(this.s.plan!.qtyStep);
      const feeQuote = fee.times(this.notional(event.price, 1)).div(step);
      const netLots = new Dec(event.lots).minus(fee.div(step));
      const sign = order.side === 'buy' ? 1 : -1;
      receivedLots = order.side === 'buy' ? Math.max(0, netLots.floor().toNumber()) : event.lots;
      const dustLots = order.side === 'buy' ? netLots.minus(receivedLots) : fee.div(step).neg();
      const dust = dustLots.times(step);
      this.book({
        quote: order.side === 'buy' ? notional.neg() : notional,
        baseLots: sign * receivedLots,
        fee: feeQuote,
        dust,
        dustCost: dust.times(this.notional(event.price, 1)).div(step),
      });
    } else if (order.side === 'buy') {
      this.book({ quote: notional.neg().minus(fee), baseLots: event.lots, fee });
    } else {
      this.book({ quote: notional.minus(fee), baseLots: -event.lots, fee });
    }
    this.applyFill(found, filled, done, event, receivedLots);
    this.exitLateBase();
  }

  private applyFill(
    found: { purpose: OrderPurpose; cell: number | null },
    filled: OpenOrder,
    done: boolean,
    event: Extract<GridEvent, { kind: 'fill' }>,
    receivedLots: number,
  ): void {
    switch (found.purpose) {
      case 'grid':
        return this.gridFill(found.cell!, filled, done, event.price, event.lots, receivedLots);
      case 'start':
        this.s = { ...this.s, startOrder: done ? null : filled };
        return this.startFill(event.price, receivedLots, done);
      case 'exit':
        this.s = { ...this.s, exitOrder: done ? null : filled };
        return this.exitFill(event.price, event.lots);
      default:
        return assertNever(found.purpose);
    }
  }

  /** After a stop-loss or take-profit, base that arrives late (a fill racing a cancel) is sold too. */
  private exitLateBase(): void {
    const reason = this.s.stopReason;
    if (
      this.s.status === 'stopped' &&
      (reason === 'stop-loss' || reason === 'take-profit' || this.s.sellingOff)
    )
      this.placeExitIfNeeded();
  }

  /** `lots` is what the order filled; `received` what the cell got (less when the fee came out of the base coin). */
  private gridFill(
    c: number,
    order: OpenOrder,
    done: boolean,
    price: number,
    lots: number,
    received: number,
  ): void {
    const cell = this.cells[c]!;
    const q = this.s.plan!.qtyLots;
    const progress = cell.progressLots + lots;
    const complete = progress === cell.cycleLots;
    if (order.side === 'buy') {
      const base = received > 0 ? [...cell.base, { lots: received, entry: price }] : cell.base;
      const held = base.reduce((sum, lot) => sum + lot.lots, 0);
      this.cells[c] = complete
        ? held > 0
          ? { ...cell, holds: 'base', cycleLots: held, progressLots: 0, base, order: null }
          : { ...cell, holds: 'quote', cycleLots: q, progressLots: 0, base, order: null }
        : { ...cell, progressLots: progress, base, order: done ? null : order };
      if (complete) this.bumpCount('buys');
    } else {
      const { rest, profit } = this.consume(cell.base, lots, price);
      this.book({ profit });
      this.cells[c] = complete
        ? { ...cell, holds: 'quote', cycleLots: q, progressLots: 0, base: rest, order: null }
        : { ...cell, progressLots: progress, base: rest, order: done ? null : order };
      if (complete) {
        this.bumpCount('sells');
        this.notes.push({ kind: 'cycle-complete', cell: c, profit: decText(profit) });
      }
    }
    if (complete && this.s.status === 'running') this.placeCellOrder(c);
  }

  /**
   * Base from the start buy goes to the waiting cells in order, each taking what its cycle still lacks. When the start
   * order is done, cells still short (a fee taken in the base coin) trade what they got.
   */
  private startFill(price: number, lots: number, done: boolean): void {
    const q = this.s.plan!.qtyLots;
    let left = lots;
    for (let c = 0; c < this.cells.length; c++) {
      const cell = this.cells[c]!;
      if (!cell.awaitingStart) continue;
      const take = Math.min(left, q - cell.progressLots);
      left -= take;
      const base = take > 0 ? [...cell.base, { lots: take, entry: price }] : cell.base;
      const progress = cell.progressLots + take;
      if (progress === q || done) {
        this.cells[c] =
          progress > 0
            ? { ...cell, awaitingStart: false, holds: 'base', cycleLots: progress, progressLots: 0, base }
            : { ...cell, awaitingStart: false, holds: 'quote', cycleLots: q, progressLots: 0, base };
        if (this.s.status === 'running') this.placeCellOrder(c);
      } else {
        this.cells[c] = { ...cell, progressLots: progress, base };
      }
    }
  }

  /** A stop exit sells the base of the cells in order; each lot realizes its profit against its entry. */
  private exitFill(price: number, lots: number): void {
    let left = lots;
    let profit = new Dec(0);
    for (let c = 0; c < this.cells.length && left > 0; c++) {
      const cell = this.cells[c]!;
      const held = cell.base.reduce((sum, lot) => sum + lot.lots, 0);
      if (held === 0) continue;
      const take = Math.min(left, held);
      left -= take;
      const used = this.consume(cell.base, take, price);
      profit = profit.plus(used.profit);
      this.cells[c] = { ...cell, base: used.rest };
    }
    this.book({ profit });
    if (left > 0)
      this.notes.push({ kind: 'invalid', message: `exit sold ${left} lots more than the grid held` });
  }

  private cancelled(clientOrderId: string): void {
    const found = this.findOrder(clientOrderId);
    if (!found) {
      this.notes.push({ kind: 'unknown-order', clientOrderId });
      return;
    }
    this.dropOrder(found.purpose, found.cell);
    if (this.s.status !== 'running') return;
    // A resume came while this cancel was in flight: the replacement goes out now that the old order is gone.
    if (found.purpose === 'grid') this.placeCellOrder(found.cell!);
    if (found.purpose === 'start') this.placeStartOrderIfNeeded();
  }

  private rejected(clientOrderId: string, reason: string): void {
    const found = this.findOrder(clientOrderId);
    if (!found) {
      this.notes.push({ kind: 'unknown-order', clientOrderId });
      return;
    }
    this.dropOrder(found.purpose, found.cell);
    if (found.purpose === 'grid') this.cells[found.cell!] = { ...this.cells[found.cell!]!, rejected: reason };
    this.notes.push({ kind: 'order-rejected', clientOrderId, reason });
  }

  // --- helpers -----------------------------------------------------------

  private placeCellOrder(c: number): void {
    const cell = this.cells[c]!;
    if (cell.order !== null || cell.awaitingStart) return;
    const plan = this.s.plan!;
    const side: Side = cell.holds === 'quote' ? 'buy' : 'sell';
    const price = side === 'buy' ? plan.lines[c]! : plan.lines[c + 1]!;
    const lots = cell.cycleLots - cell.progressLots;
    const seq = cell.seq + 1;
    const order = this.newOrder(gridOrderId(this.s.gridId, c, seq), side, price, lots, 'grid', c);
    this.cells[c] = { ...cell, seq, order, rejected: null };
  }

  private placeStartOrderIfNeeded(): void {
    if (this.s.startOrder !== null) return;
    const plan = this.s.plan!;
    const lots = this.cells.reduce(
      (sum, cell) => sum + (cell.awaitingStart ? plan.qtyLots - cell.progressLots : 0),
      0,
    );
    if (lots === 0) return;
    const order = this.newOrder(
      `${this.s.gridId}-s${this.s.startAttempts}`,
      'buy',
      null,
      lots,
      'start',
      null,
    );
    this.s = { ...this.s, startOrder: order, startAttempts: this.s.startAttempts + 1 };
  }

  private placeExitIfNeeded(): void {
    if (this.s.exitOrder !== null || this.s.ledger.baseLots === 0) return;
    const lots = this.s.ledger.baseLots;
    const order = this.newOrder(`${this.s.gridId}-x${this.s.exitAttempts}`, 'sell', null, lots, 'exit', null);
    this.s = { ...this.s, exitOrder: order, exitAttempts: this.s.exitAttempts + 1 };
  }

  private newOrder(
    clientOrderId: string,
    side: Side,
    price: number | null,
    lots: number,
    purpose: OrderPurpose,
    cell: number | null,
  ): OpenOrder {
    const plan = this.s.plan!;
    this.commands.push({
      kind: 'place',
      clientOrderId,
      side,
      type: price === null ? 'market' : 'limit',
      price,
      lots,
      priceText: price === null ? null : priceText(price),
      qtyText: decText(new Dec(plan.qtyStep).times(lots)),
      purpose,
      cell,
    });
    return { clientOrderId, side, price, lots, filledLots: 0, execIds: [], cancelling: false };
  }

  private cancelAll(): void {
    const cancel = (order: OpenOrder): OpenOrder => {
      if (!order.cancelling) this.commands.push({ kind: 'cancel', clientOrderId: order.clientOrderId });
      return { ...order, cancelling: true };
    };
    if (this.s.startOrder) this.s = { ...this.s, startOrder: cancel(this.s.startOrder) };
    for (let c = 0; c < this.cells.length; c++) {
      const cell = this.cells[c]!;
      if (cell.order) this.cells[c] = { ...cell, order: cancel(cell.order) };
    }
  }

  private findOrder(
    clientOrderId: string,
  ): { order: OpenOrder; purpose: OrderPurpose; cell: number | null } | null {
    if (this.s.startOrder?.clientOrderId === clientOrderId) {
      return { order: this.s.startOrder, purpose: 'start', cell: null };
    }
    if (this.s.exitOrder?.clientOrderId === clientOrderId) {
      return { order: this.s.exitOrder, purpose: 'exit', cell: null };
    }
    // Grid ids name their cell: look there first, then fall back to a scan (ids from elsewhere are rejected anyway).
    const prefix = `${this.s.gridId}-`;
    if (clientOrderId.startsWith(prefix)) {
      const c = Number(clientOrderId.slice(prefix.length).split('-')[0]);
      const order = this.cells[c]?.order;
      if (order?.clientOrderId === clientOrderId) return { order, purpose: 'grid', cell: c };
    }
    return null;
  }

  private dropOrder(purpose: OrderPurpose, cell: number | null): void {
    if (purpose === 'start') this.s = { ...this.s, startOrder: null };
    else if (purpose === 'exit') this.s = { ...this.s, exitOrder: null };
    else this.cells[cell!] = { ...this.cells[cell!]!, order: null };
  }

  private consume(base: readonly BaseLot[], lots: number, price: number): { rest: BaseLot[]; profit: Dec } {
    const rest = base.slice();
    let left = lots;
    let profit = new Dec(0);
    while (left > 0) {
      const lot = rest[0];
      if (!lot) throw new Error('engine invariant: a sell consumed more base than the cell holds');
      const take = Math.min(left, lot.lots);
      profit = profit.plus(this.notional(price - lot.entry, take));
      left -= take;
      if (take === lot.lots) rest.shift();
      else rest[0] = { lots: lot.lots - take, entry: lot.entry };
    }
    return { rest, profit };
  }

  private notional(priceUnits: number, lots: number): Dec {
    return new Dec(priceUnits).times(lots).times(this.s.plan!.qtyStep).div(1e8);
  }

  private feeFor(purpose: OrderPurpose, price: number, lots: number): Dec {
    const plan = this.s.plan!;
    return this.notional(price, lots).times(purpose === 'grid' ? plan.makerFee : plan.takerFee);
  }

  private book(delta: {
    quote?: Dec;
    baseLots?: number;
    fee?: Dec;
    profit?: Dec;
    dust?: Dec;
    dustCost?: Dec;
  }): void {
    const l = this.s.ledger;
    this.s = {
      ...this.s,
      ledger: {
        ...l,
        quote: delta.quote ? decText(new Dec(l.quote).plus(delta.quote)) : l.quote,
        baseLots: l.baseLots + (delta.baseLots ?? 0),
        dust: delta.dust ? decText(new Dec(l.dust).plus(delta.dust)) : l.dust,
        dustCost: delta.dustCost ? decText(new Dec(l.dustCost).plus(delta.dustCost)) : l.dustCost,
        fees: delta.fee ? decText(new Dec(l.fees).plus(delta.fee)) : l.fees,
        gridProfit: delta.profit ? decText(new Dec(l.gridProfit).plus(delta.profit)) : l.gridProfit,
      },
    };
  }

  private bumpCount(which: 'buys' | 'sells'): void {
    this.s = { ...this.s, ledger: { ...this.s.ledger, [which]: this.s.ledger[which] + 1 } };
  }

  private ignore(event: GridEvent['kind'], because: string): void {
    this.notes.push({ kind: 'ignored', event, because });
  }
}
