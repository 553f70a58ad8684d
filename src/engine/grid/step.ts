import { Dec, decText, priceText } from '../money.js';
import { assertNever } from '../result.js';
import type { GridCommand, GridEvent, GridNote, OrderPurpose } from './events.js';
import { type GridPlan, planGrid } from './plan.js';
import {
  type BaseLot,
  type Cell,
  currentLines,
  type GridState,
  type LeavingCell,
  type OpenOrder,
  type Side,
  type StopReason,
} from './state.js';
import { lineAt, shiftedLots, shiftRefusal } from './trailing.js';

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

/**
 * The client order id of a grid order: the grid, the cell's index among all the grid's cells (trailing up adds cells
 * with new, higher indices, so an id is never used twice) and the cell's order counter.
 */
export function gridOrderId(gridId: string, cell: number, seq: number): string {
  return `${gridId}-${cell}-${seq}`;
}

/** All orders the grid believes are on the exchange. */
export function openOrders(state: GridState): OpenOrder[] {
  const out: OpenOrder[] = [];
  if (state.startOrder) out.push(state.startOrder);
  for (const cell of state.cells) if (cell.order) out.push(cell.order);
  for (const cell of state.trail?.leaving ?? []) if (cell.order) out.push(cell.order);
  if (state.exitOrder) out.push(state.exitOrder);
  return out;
}

/**
 * Where a cell is: `c` ≥ 0 is the window's cell c (the grid's cell offset + c); `~i` (negative) is leaving cell i, one
 * a trailing shift took out while its cancel was unconfirmed.
 */
type CellRef = number;

/** A cell whose buy at its line is open and untouched: what trailing up may move to the top. */
const shiftable = (cell: Cell): boolean =>
  cell.holds === 'quote' &&
  !cell.awaitingStart &&
  cell.base.length === 0 &&
  cell.progressLots === 0 &&
  cell.order !== null &&
  cell.order.side === 'buy' &&
  !cell.order.cancelling &&
  cell.order.filledLots === 0;

class StepRun {
  private s: GridState;
  private cells: Cell[];
  private leaving: LeavingCell[];
  private readonly commands: GridCommand[] = [];
  private readonly notes: GridNote[] = [];

  constructor(private readonly initial: GridState) {
    this.s = initial;
    this.cells = initial.cells.slice();
    this.leaving = initial.trail ? initial.trail.leaving.slice() : [];
  }

  output(): StepOutput {
    // Every change replaces the state or a cell, never mutates one: untouched references mean nothing changed.
    const before = this.initial.trail?.leaving ?? [];
    const sameLeaving =
      this.leaving.length === before.length && this.leaving.every((cell, i) => cell === before[i]);
    const unchanged =
      this.s === this.initial &&
      sameLeaving &&
      this.cells.length === this.initial.cells.length &&
      this.cells.every((cell, c) => cell === this.initial.cells[c]);
    if (unchanged) return { state: this.initial, commands: this.commands, notes: this.notes };
    const trail = this.s.trail && (sameLeaving ? this.s.trail : { ...this.s.trail, leaving: this.leaving });
    return { state: { ...this.s, cells: this.cells, trail }, commands: this.commands, notes: this.notes };
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

  /**
   * The grid's first price. A grid with a trigger price is planned at it (P0 = T0) and refused here if it cannot trade
   * there; unless this price is the trigger, it then waits for the price to reach it.
   */
  private start(price: number): void {
    if (this.s.status !== 'created') return this.ignore('start', `the grid is ${this.s.status}`);
    const planned = planGrid(this.s.params, price);
    if (!planned.ok) {
      this.notes.push({ kind: 'invalid', message: planned.error.message });
      this.s = { ...this.s, status: 'stopped', stopReason: 'rejected-start' };
      return;
    }
    const plan = planned.value;
    if (plan.trigger !== null && plan.trigger !== price) {
      this.s = { ...this.s, plan, status: 'waiting', lastPrice: price };
      this.notes.push({ kind: 'waiting', trigger: priceText(plan.trigger) });
      return;
    }
    this.begin(plan, price);
  }

  /** Rules 2-3: the cells, the start buy at P0 and the grid's first orders. `seen` is the price that started it. */
  private begin(plan: GridPlan, seen: number): void {
    const k = plan.gapLine;
    this.s = {
      ...this.s,
      plan,
      status: 'running',
      lastPrice: seen,
      trail: plan.trailing
        ? {
            offset: 0,
            lines: plan.lines,
            next: lineAt(plan, plan.grids + 1),
            shifts: 0,
            ended: false,
            leaving: [],
          }
        : null,
    };
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
        qtyLots: plan.qtyLots,
      });
    }
    if (plan.trigger !== null) this.notes.push({ kind: 'triggered', price: priceText(plan.trigger) });
    this.notes.push({
      kind: 'started',
      gapLine: k,
      qtyPerGrid: decText(new Dec(plan.qtyStep).times(plan.qtyLots)),
    });
    this.placeStartOrderIfNeeded();
    for (let c = 0; c < k; c++) this.placeCellOrder(c);
  }

  /** A waiting grid pauses too: it then stops watching its trigger until resumed. */
  private pause(): void {
    if (this.s.status !== 'running' && this.s.status !== 'waiting')
      return this.ignore('pause', `the grid is ${this.s.status}`);
    this.s = { ...this.s, status: 'paused' };
    this.cancelAll();
  }

  private resume(): void {
    if (this.s.status !== 'paused') return this.ignore('resume', `the grid is ${this.s.status}`);
    // Paused before its trigger was reached (it has no cells yet): it waits again.
    if (this.cells.length === 0 && this.s.plan?.trigger != null) {
      this.s = { ...this.s, status: 'waiting' };
      return;
    }
    this.s = { ...this.s, status: 'running' };
    this.placeStartOrderIfNeeded();
    for (let c = 0; c < this.cells.length; c++) {
      const cell = this.cells[c]!;
      if (cell.rejected !== null) this.cells[c] = { ...cell, rejected: null };
      if (cell.order === null && !cell.awaitingStart) this.placeCellOrder(c);
    }
    for (let i = this.leaving.length - 1; i >= 0; i--) {
      const cell = this.leaving[i]!;
      if (cell.rejected !== null) this.leaving[i] = { ...cell, rejected: null };
      this.settleLeaving(i);
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
    const last = this.s.lastPrice;
    if (last !== price) this.s = { ...this.s, lastPrice: price };
    const plan = this.s.plan;
    if (!plan) return;
    if (this.s.status === 'waiting') {
      // Reached from either side, or exactly: the path between two prices passes every price between them.
      const t0 = plan.trigger!;
      if (price === t0 || (last !== null && (last < t0 ? price > t0 : last > t0 && price < t0)))
        this.begin(plan, price);
      return;
    }
    // A grid paused while waiting has not started: it holds nothing for a stop to protect.
    if ((this.s.status !== 'running' && this.s.status !== 'paused') || this.cells.length === 0) return;
    if (plan.stopLoss !== null && price <= plan.stopLoss) this.stop('stop-loss');
    else if (plan.takeProfit !== null && price >= plan.takeProfit) this.stop('take-profit');
    else if (this.s.status === 'running' && this.s.trail && !this.s.trail.ended) this.trailUp(plan, price);
  }

  /**
   * Trailing up: while the price is at or above line a+N+1 and the lowest cell's buy is open, the grid moves up one
   * line: that buy is cancelled and its cell leaves; its quote R = q_a · line a funds a new top cell that buys
   * q' = floor(R / line(a+N)) at line a+N. A refused shift (cap, minimums) ends trailing for good.
   */
  private trailUp(plan: GridPlan, price: number): void {
    const n = plan.grids;
    for (;;) {
      const t = this.s.trail!;
      if (t.ended || t.next === null || price < t.next) return;
      const low = this.cells[0]!;
      if (!shiftable(low)) return;
      const top = t.lines[n]!;
      const lots = shiftedLots(low.qtyLots, t.lines[0]!, top);
      const refusal = shiftRefusal(plan, lots, top, t.next);
      if (refusal) {
        this.s = { ...this.s, trail: { ...t, ended: true } };
        this.notes.push({ kind: 'trailing-ended', reason: refusal.reason, message: refusal.message });
        return;
      }
      const order = low.order!;
      this.commands.push({ kind: 'cancel', clientOrderId: order.clientOrderId });
      this.leaving.push({
        ...low,
        order: { ...order, cancelling: true },
        index: t.offset,
        buyLine: t.lines[0]!,
        sellLine: t.lines[1]!,
      });
      const offset = t.offset + 1;
      const lines = [...t.lines.slice(1), t.next];
      this.s = {
        ...this.s,
        trail: { ...t, offset, lines, next: lineAt(plan, offset + n + 1), shifts: t.shifts + 1 },
      };
      this.cells = [
        ...this.cells.slice(1),
        {
          holds: 'quote',
          cycleLots: lots,
          progressLots: 0,
          base: [],
          seq: 0,
          order: null,
          awaitingStart: false,
          rejected: null,
          qtyLots: lots,
        },
      ];
      this.placeCellOrder(n - 1);
      this.notes.push({
        kind: 'trailing-shift',
        left: t.offset,
        cell: offset + n - 1,
        qty: decText(new Dec(plan.qtyStep).times(lots)),
        lower: priceText(lines[0]!),
        upper: priceText(lines[n]!),
        shifts: t.shifts + 1,
      });
    }
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
    c: CellRef,
    order: OpenOrder,
    done: boolean,
    price: number,
    lots: number,
    received: number,
  ): void {
    const cell = this.cellAt(c);
    const q = cell.qtyLots;
    const progress = cell.progressLots + lots;
    const complete = progress === cell.cycleLots;
    let next: Cell;
    if (order.side === 'buy') {
      const base = received > 0 ? [...cell.base, { lots: received, entry: price }] : cell.base;
      const held = base.reduce((sum, lot) => sum + lot.lots, 0);
      next = complete
        ? held > 0
          ? { ...cell, holds: 'base', cycleLots: held, progressLots: 0, base, order: null }
          : { ...cell, holds: 'quote', cycleLots: q, progressLots: 0, base, order: null }
        : { ...cell, progressLots: progress, base, order: done ? null : order };
      if (complete) this.bumpCount('buys');
    } else {
      const { rest, profit } = this.consume(cell.base, lots, price);
      this.book({ profit });
      next = complete
        ? { ...cell, holds: 'quote', cycleLots: q, progressLots: 0, base: rest, order: null }
        : { ...cell, progressLots: progress, base: rest, order: done ? null : order };
      if (complete) {
        this.bumpCount('sells');
        this.notes.push({ kind: 'cycle-complete', cell: this.indexOf(c), profit: decText(profit) });
      }
    }
    if (c < 0) {
      // A leaving cell: it sells what it bought and then leaves; it never buys again.
      this.leaving[~c] = next as LeavingCell;
      if (next.order === null) this.settleLeaving(~c);
      return;
    }
    this.cells[c] = next;
    if (complete && this.s.status === 'running') this.placeCellOrder(c);
  }

  /**
   * Base from the start buy goes to the waiting cells in order, each taking what its cycle still lacks. When the start
   * order is done, cells still short (a fee taken in the base coin) trade what they got.
   */
  private startFill(price: number, lots: number, done: boolean): void {
    let left = lots;
    for (let c = 0; c < this.cells.length; c++) {
      const cell = this.cells[c]!;
      if (!cell.awaitingStart) continue;
      const q = cell.qtyLots;
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
    const refs = [...this.cells.keys(), ...[...this.leaving.keys()].map((i) => ~i)];
    for (const c of refs) {
      if (left === 0) break;
      const cell = this.cellAt(c);
      const held = cell.base.reduce((sum, lot) => sum + lot.lots, 0);
      if (held === 0) continue;
      const take = Math.min(left, held);
      left -= take;
      const used = this.consume(cell.base, take, price);
      profit = profit.plus(used.profit);
      this.setCell(c, { ...cell, base: used.rest });
    }
    this.book({ profit });
    for (let i = this.leaving.length - 1; i >= 0; i--) this.settleLeaving(i);
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
    if (found.purpose === 'grid' && found.cell! < 0) return this.settleLeaving(~found.cell!);
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
    this.notes.push({ kind: 'order-rejected', clientOrderId, reason });
    if (found.purpose !== 'grid') return;
    const c = found.cell!;
    this.setCell(c, { ...this.cellAt(c), rejected: reason });
    if (c < 0) this.settleLeaving(~c);
  }

  // --- helpers -----------------------------------------------------------

  private placeCellOrder(c: number): void {
    const cell = this.cells[c]!;
    if (cell.order !== null || cell.awaitingStart) return;
    const lines = currentLines(this.s);
    const side: Side = cell.holds === 'quote' ? 'buy' : 'sell';
    const price = side === 'buy' ? lines[c]! : lines[c + 1]!;
    const lots = cell.cycleLots - cell.progressLots;
    const seq = cell.seq + 1;
    const index = this.indexOf(c);
    const order = this.newOrder(gridOrderId(this.s.gridId, index, seq), side, price, lots, 'grid', index);
    this.cells[c] = { ...cell, seq, order, rejected: null };
  }

  /**
   * A leaving cell with no open order: gone if it holds no base; else it sells what it holds at its sell line (when
   * the grid runs and the order was not refused: a resume places it then).
   */
  private settleLeaving(i: number): void {
    let cell = this.leaving[i]!;
    if (cell.order !== null) return;
    const held = cell.base.reduce((sum, lot) => sum + lot.lots, 0);
    if (held === 0) {
      this.leaving.splice(i, 1);
      return;
    }
    if (cell.holds === 'quote') cell = { ...cell, holds: 'base', cycleLots: held, progressLots: 0 };
    if (this.s.status === 'running' && cell.rejected === null) {
      const seq = cell.seq + 1;
      const lots = cell.cycleLots - cell.progressLots;
      const id = gridOrderId(this.s.gridId, cell.index, seq);
      cell = { ...cell, seq, order: this.newOrder(id, 'sell', cell.sellLine, lots, 'grid', cell.index) };
    }
    this.leaving[i] = cell;
  }

  private cellAt(c: CellRef): Cell {
    return c >= 0 ? this.cells[c]! : this.leaving[~c]!;
  }

  private setCell(c: CellRef, cell: Cell): void {
    if (c >= 0) this.cells[c] = cell;
    else this.leaving[~c] = cell as LeavingCell;
  }

  /** The cell's index among all the grid's cells: what its order ids and notes name. */
  private indexOf(c: CellRef): number {
    return c >= 0 ? (this.s.trail?.offset ?? 0) + c : this.leaving[~c]!.index;
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
    for (let i = 0; i < this.leaving.length; i++) {
      const cell = this.leaving[i]!;
      if (cell.order) this.leaving[i] = { ...cell, order: cancel(cell.order) };
    }
  }

  private findOrder(
    clientOrderId: string,
  ): { order: OpenOrder; purpose: OrderPurpose; cell: CellRef | null } | null {
    if (this.s.startOrder?.clientOrderId === clientOrderId) {
      return { order: this.s.startOrder, purpose: 'start', cell: null };
    }
    if (this.s.exitOrder?.clientOrderId === clientOrderId) {
      return { order: this.s.exitOrder, purpose: 'exit', cell: null };
    }
    // Grid ids name their cell: look there first, then fall back to a scan (ids from elsewhere are rejected anyway).
    const prefix = `${this.s.gridId}-`;
    if (clientOrderId.startsWith(prefix)) {
      const index = Number(clientOrderId.slice(prefix.length).split('-')[0]);
      const c = index - (this.s.trail?.offset ?? 0);
      const order = this.cells[c]?.order;
      if (order?.clientOrderId === clientOrderId) return { order, purpose: 'grid', cell: c };
      const i = this.leaving.findIndex(
        (cell) => cell.index === index && cell.order?.clientOrderId === clientOrderId,
      );
      if (i >= 0) return { order: this.leaving[i]!.order!, purpose: 'grid', cell: ~i };
    }
    return null;
  }

  private dropOrder(purpose: OrderPurpose, cell: CellRef | null): void {
    if (purpose === 'start') this.s = { ...this.s, startOrder: null };
    else if (purpose === 'exit') this.s = { ...this.s, exitOrder: null };
    else this.setCell(cell!, { ...this.cellAt(cell!), order: null });
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
