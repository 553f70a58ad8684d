import type { GridCommand, GridEvent, GridNote } from '../engine/grid/events.js';
import type { GridState, OpenOrder } from '../engine/grid/state.js';
import { openOrders, step } from '../engine/grid/step.js';
import { Dec, decText, priceText } from '../engine/money.js';
import { clearsByItself, type PreTradeVerdict, type RefusalReason } from '../engine/risk/pre-trade.js';
import type { Exchange, PlaceOrderRequest, PlaceOutcome } from '../exchange/exchange.js';
import type { Logger } from '../log/logger.js';
import type { GridEventBus, Notification, NotificationSink } from './ports/core.js';
import type { GridStore } from './ports/grids.js';
import type { OrderStore, OrderToSend } from './ports/orders.js';
import type { TradeStore } from './ports/trades.js';
import type { GuardedOrder } from './pre-trade-guard.js';

export interface ProcessorDeps {
  readonly grids: Pick<GridStore, 'load' | 'commitStep'>;
  /** The order state machine: every status change of an order goes through it (src/db/order-store.ts). */
  readonly orders: OrderStore;
  readonly trades: Pick<TradeStore, 'refreshPosition'>;
  readonly exchange: Exchange;
  readonly bus: GridEventBus;
  readonly notifier: NotificationSink;
  readonly log: Logger;
  /** The kill switch: while it is on, nothing is sent to the exchange but cancels. */
  readonly isKilled?: () => Promise<boolean>;
  /** Layer 1 of the risk rules: every order is judged before it leaves, and a held one again on every price. */
  readonly guard?: {
    check(orders: readonly GuardedOrder[], options?: { rejudge?: boolean }): Promise<PreTradeVerdict[]>;
  };
}

export interface ApplyOptions {
  /** Leave the step's cancels recorded but unsent: the kill switch cancels everything at once instead. */
  readonly sendCancels?: boolean;
}

export interface AppliedEvent {
  readonly applied: boolean;
  readonly commands: readonly GridCommand[];
  readonly notes: readonly GridNote[];
  readonly state: GridState | null;
}

/**
 * Applies grid events and carries out their commands. An event is applied atomically: load the grid, run the engine
 * step, and write the new state, the fill (unique per execution id) and the orders it wants in one statement guarded
 * by the state's version (another process got there first: start again). Only after that write do orders reach the
 * exchange: the committing process owns them ('placing'), the reconciler takes over those whose owner died, and the
 * exchange knows each by its client order id, so a retry is recognised. Outcomes (rejected, cancelled) come back as
 * events through the bus.
 */
export class GridProcessor {
  constructor(private readonly deps: ProcessorDeps) {}

  /**
   * Applies one event: load the state, run the engine, write the outcome in one guarded statement; if another
   * process wrote the grid in between (its version moved), start again from the new state.
   */
  async apply(gridId: string, event: GridEvent, options: ApplyOptions = {}): Promise<AppliedEvent> {
    const { grids, trades } = this.deps;
    for (let attempt = 1; ; attempt++) {
      const grid = await grids.load(gridId, event.kind === 'fill' ? event.execId : null);
      const none: AppliedEvent = { applied: false, commands: [], notes: [], state: grid?.state ?? null };
      if (!grid || grid.executionRecorded) return none;
      const out = step(grid.state, event);
      const skipped = out.notes.some(
        (n) => n.kind === 'duplicate-fill' || n.kind === 'unknown-order' || n.kind === 'overfill',
      );
      // An event the engine ignores, or one that changes nothing, comes back with the very state it was given: nothing
      // is written (the version stays) and nothing is said, so a redelivered or raced command is announced once.
      if (out.state === grid.state || (event.kind === 'fill' && skipped))
        return { ...none, notes: out.notes };
      const order = event.kind === 'fill' ? findOrder(grid.state, event.clientOrderId) : null;
      const trade =
        event.kind === 'fill' && order
          ? {
              execId: event.execId,
              clientOrderId: event.clientOrderId,
              exchangeOrderId: event.orderId ?? null,
              side: order.side,
              purpose: purposeOf(event.clientOrderId),
              price: priceText(event.price),
              quantity: decText(new Dec(grid.state.plan!.qtyStep).times(event.lots)),
              // As the exchange charged it (Bybit takes spot buy fees in the base coin); the grid's ledger values it in quote.
              fee: event.fee ?? decText(new Dec(out.state.ledger.fees).minus(grid.state.ledger.fees)),
              feeCurrency: this.feeCoin(grid.symbol, event.feeCurrency ?? 'quote'),
              feeQuote: decText(new Dec(out.state.ledger.fees).minus(grid.state.ledger.fees)),
              realizedPnl: decText(new Dec(out.state.ledger.gridProfit).minus(grid.state.ledger.gridProfit)),
              executedAt: new Date(event.executedAtMs ?? Date.now()),
              orderDone: findOrder(out.state, event.clientOrderId) === null,
            }
          : null;
      const outcome = await grids.commitStep(grid, out.state, out.commands, trade);
      if (outcome === 'duplicate-fill') return none;
      if (outcome === 'stale') {
        if (attempt >= 50)
          throw new Error(`grid ${gridId}: could not apply ${event.kind} after ${attempt} attempts`);
        continue;
      }
      const applied = { applied: true, commands: out.commands, notes: out.notes, state: out.state };
      const commands =
        options.sendCancels === false ? out.commands.filter((c) => c.kind !== 'cancel') : out.commands;
      await this.execute(grid.symbol, gridId, commands);
      // The symbol's position follows its grids; refreshed once the counter order is out, off the critical path.
      if (event.kind === 'fill') await trades.refreshPosition(grid.symbol, priceText(event.price));
      await this.announce(
        gridId,
        grid.symbol,
        event,
        applied,
        grid.version + 1,
        order?.side ?? null,
        trade ? `${trade.fee} ${trade.feeCurrency}` : null,
      );
      return applied;
    }
  }

  /**
   * Sends the commands of an event this process just committed (its orders are already claimed: 'placing'). Cancels
   * go first, and are answered before any placement is judged: a trailing shift cancels its lowest buy to fund the new
   * top one, and the new buy, judged while the old one still held its quote, could be held back for want of a free
   * balance the cancel was about to free. Then placements, in parallel (bounded), since a start places dozens at once.
   */
  private async execute(symbol: string, gridId: string, commands: readonly GridCommand[]): Promise<void> {
    const toRow = (c: Extract<GridCommand, { kind: 'place' }>): OrderToSend => ({
      clientOrderId: c.clientOrderId,
      gridId,
      symbol,
      side: c.side,
      type: c.type,
      purpose: c.purpose,
      price: c.priceText,
      quantity: c.qtyText,
    });
    const cancels = commands.flatMap((c) => (c.kind === 'cancel' ? [c.clientOrderId] : []));
    await bounded(cancels, (id) => this.requestCancel(id));
    // Judged together, against the book as it is before any of them goes: a start's market buy filling while its
    // grid orders are still being sent must not change the verdict on those (it did, one order at a time, on a slow
    // machine). The batched path below never judged them again either.
    const places = await this.passGuard(commands.flatMap((c) => (c.kind === 'place' ? [toRow(c)] : [])));
    const { exchange } = this.deps;
    if (places.length > 1 && exchange.placeOrders !== undefined) {
      // Many at once (a start, a resume): in batches where the exchange has them.
      const going = await this.holdWhileKilled(places);
      const outcomes = going.length > 0 ? await exchange.placeOrders(going.map(toRequest)) : [];
      await Promise.all(going.map((row, i) => this.recordPlacement(row, outcomes[i]!)));
      return;
    }
    await bounded(places, (order) => this.sendPlacement(order, { judged: true }));
  }

  private feeCoin(symbol: string, which: 'quote' | 'base'): string {
    const instrument = this.deps.exchange.instrument(symbol);
    return (which === 'base' ? instrument?.baseAsset : instrument?.quoteAsset) ?? which;
  }

  /** Claims an intent and places it. Returns without effect if another worker claimed it or it was cancelled. */
  async placeIntent(clientOrderId: string): Promise<void> {
    const order = await this.deps.orders.claimIntent(clientOrderId);
    if (order) await this.sendPlacement(order);
  }

  /**
   * Sends a claimed order ('placing') to the exchange and records what the exchange said. The kill switch is asked
   * right before every send; the pre-trade rules only when the order was not judged with its batch just before.
   */
  private async sendPlacement(
    order: OrderToSend,
    options: { judged: boolean } = { judged: false },
  ): Promise<void> {
    if ((await this.holdWhileKilled([order])).length === 0) return;
    if (!options.judged && (await this.passGuard([order])).length === 0) return;
    await this.recordPlacement(order, await this.deps.exchange.placeOrder(toRequest(order)));
  }

  /**
   * The pre-trade rules judge the orders. One refused by a rule that clears by itself (a breaker, the BTC filter, the
   * fat finger, the free balance) is held: kept unsent in the store ('held'), still the grid's open order, and placed
   * under the same client order id once a check on a later price lets it through (`releaseHeld`). One refused by any
   * other rule is closed unsent with its reason and its grid hears it (and places it again when resumed). Returns the
   * orders that may go.
   */
  private async passGuard(orders: readonly OrderToSend[]): Promise<OrderToSend[]> {
    const guard = this.deps.guard;
    if (!guard || orders.length === 0) return [...orders];
    const verdicts = await guard.check(orders.map(toGuarded));
    const pass: OrderToSend[] = [];
    for (const [i, order] of orders.entries()) {
      const verdict = verdicts[i]!;
      if (verdict.ok) pass.push(order);
      else if (clearsByItself(verdict.reason)) await this.hold(order, verdict.reason, verdict.message);
      else await this.refuse(order, verdict.reason, verdict.message);
    }
    return pass;
  }

  private async refuse(order: OrderToSend, reason: RefusalReason, message: string): Promise<void> {
    if (!(await this.deps.orders.rejectUnsent(order.clientOrderId, `pre-trade ${reason}: ${message}`)))
      return;
    await this.deps.bus.publish(order.gridId, {
      kind: 'rejected',
      clientOrderId: order.clientOrderId,
      reason: `pre-trade ${reason}`,
    });
    await this.deps.notifier.notify({
      category: 'risk',
      severity: 'warning',
      key: `pretrade-${order.gridId}-${reason}`,
      gridId: order.gridId,
      title: `${order.symbol} grid ${order.gridId}: order held back (${reason})`,
      lines: [message, 'the grid places it again when resumed'],
    });
  }

  /**
   * Holds an order back: the engine hears nothing (the order stays the cell's, so nothing else takes its place), and
   * the user is told once per episode: when the grid had no order held for this reason yet.
   */
  private async hold(order: OrderToSend, reason: RefusalReason, message: string): Promise<void> {
    const { held, ongoing } = await this.deps.orders.holdUnsent(
      order.clientOrderId,
      heldReason(reason, message),
      heldReason(reason, ''),
    );
    if (!held || ongoing) return;
    await this.deps.notifier.notify({
      category: 'risk',
      severity: 'warning',
      key: `held-${order.clientOrderId}`,
      gridId: order.gridId,
      title: `${order.symbol} grid ${order.gridId}: order held back (${reason})`,
      lines: [message, `it is placed as soon as a ${order.symbol} price finds this cleared`],
    });
  }

  /**
   * Judges the held orders of a symbol again (on each of its prices) and places those the rules now let through, under
   * their own client order ids; the rest stay held. An order is claimed ('held' → 'placing') only while nobody asked to
   * cancel it and its grid runs, in one statement: two prices judged at once place it once, and a pause or stop
   * committed first keeps it home (its cancel closes it). Held orders whose cancel was left unsent (the kill switch
   * stops grids without sending cancels) are closed here, and their grids hear it. Returns how many were placed.
   */
  async releaseHeld(symbol: string, options: { except?: readonly string[] } = {}): Promise<number> {
    const { orders: store, guard, log } = this.deps;
    const rows = await store.heldOf(symbol, options.except ?? []);
    for (const r of rows) if (r.cancelRequested) await this.requestCancel(r.clientOrderId);
    const waiting = rows.filter((r) => !r.cancelRequested);
    if (waiting.length === 0) return 0;
    let verdicts: PreTradeVerdict[];
    try {
      verdicts = guard
        ? await guard.check(waiting.map(toGuarded), { rejudge: true })
        : waiting.map(() => ({ ok: true }) as const);
    } catch (e) {
      // Nothing was claimed: the next price judges them again.
      log.warn({ symbol }, `held orders not judged: ${(e as Error).message}`);
      return 0;
    }
    const ready: string[] = [];
    for (const [i, order] of waiting.entries()) {
      const verdict = verdicts[i]!;
      if (verdict.ok) ready.push(order.clientOrderId);
      else if (!order.reason?.startsWith(heldReason(verdict.reason, ''))) {
        // Still held, now by another rule: the store says which (written when the rule changes, not on every price).
        await store.noteHeldReason(order.clientOrderId, heldReason(verdict.reason, verdict.message));
      }
    }
    if (ready.length === 0) return 0;
    const claimed = await store.claimHeld(ready);
    if (claimed.length === 0) return 0;
    const placed = await this.sendClaimed(claimed);
    const byGrid = new Map<string, (OrderToSend & { reason: string | null })[]>();
    for (const row of claimed) {
      if (!placed.has(row.clientOrderId)) continue;
      byGrid.set(row.gridId, [...(byGrid.get(row.gridId) ?? []), row]);
    }
    for (const [gridId, orders] of byGrid) {
      await this.deps.notifier.notify({
        category: 'risk',
        severity: 'info',
        // A claim happens once per order: the first of them names this release for good.
        key: `released-${orders[0]!.clientOrderId}`,
        gridId,
        title: `${symbol} grid ${gridId}: ${orders.length === 1 ? 'held order' : `${orders.length} held orders`} placed again`,
        lines: orders.map(
          (o) =>
            `${o.side} ${decText(o.quantity)} @ ${o.price === null ? 'market' : decText(o.price)} (held: ${heldKind(o.reason)})`,
        ),
      });
    }
    return placed.size;
  }

  /** Sends orders claimed just now after a check: in one batch where the exchange has them. Returns those it took. */
  private async sendClaimed(orders: readonly OrderToSend[]): Promise<Set<string>> {
    const { exchange } = this.deps;
    const going = await this.holdWhileKilled(orders);
    const taken = new Set<string>();
    if (going.length > 1 && exchange.placeOrders !== undefined) {
      const outcomes = await exchange.placeOrders(going.map(toRequest));
      for (const [i, row] of going.entries())
        if (await this.recordPlacement(row, outcomes[i]!)) taken.add(row.clientOrderId);
      return taken;
    }
    for (const row of going)
      if (await this.recordPlacement(row, await exchange.placeOrder(toRequest(row))))
        taken.add(row.clientOrderId);
    return taken;
  }

  /**
   * With the kill switch on, orders are not sent: they are closed unsent (and can no longer be claimed), and their
   * grids hear it. Exits still go (they only sell what a stopped grid holds). Returns the orders that may go.
   */
  private async holdWhileKilled(orders: readonly OrderToSend[]): Promise<OrderToSend[]> {
    if (!(await this.deps.isKilled?.())) return [...orders];
    for (const order of orders) {
      if (order.purpose === 'exit') continue;
      if (await this.deps.orders.cancelUnsent(order.clientOrderId, 'kill switch'))
        await this.deps.bus.publish(order.gridId, {
          kind: 'cancelled',
          clientOrderId: order.clientOrderId,
        });
    }
    return orders.filter((o) => o.purpose === 'exit');
  }

  /**
   * Records what the exchange said about a placement, and tells the engine when it refused or closed the order.
   * Returns whether the exchange has the order.
   */
  private async recordPlacement(order: OrderToSend, outcome: PlaceOutcome): Promise<boolean> {
    const { orders, bus, log } = this.deps;
    if (outcome.kind === 'rejected') {
      await orders.recordRefusal(order.clientOrderId, `${outcome.reason}: ${outcome.message}`);
      log.warn(
        { clientOrderId: order.clientOrderId, reason: outcome.reason },
        `order refused: ${outcome.message}`,
      );
      await bus.publish(order.gridId, {
        kind: 'rejected',
        clientOrderId: order.clientOrderId,
        reason: outcome.reason,
      });
      return false;
    }
    if (
      outcome.kind === 'already-placed' &&
      (outcome.status === 'cancelled' || outcome.status === 'rejected')
    ) {
      await orders.recordClosedOnExchange(order.clientOrderId, outcome.status);
      await bus.publish(order.gridId, { kind: 'cancelled', clientOrderId: order.clientOrderId });
      return false;
    }
    const placed = await orders.recordAccepted(order.clientOrderId, outcome.exchangeOrderId);
    if (placed?.cancelRequested && placed.status === 'placed') await this.requestCancel(order.clientOrderId);
    return true;
  }

  /**
   * Cancels an order. One never sent (an intent, a held order) is cancelled on the spot (and can no longer be claimed);
   * one being placed is left to its placer, which sees the request when the exchange answers; one on the exchange is
   * cancelled there. The engine hears 'cancelled' only once the order can no longer fill.
   */
  async requestCancel(clientOrderId: string): Promise<void> {
    const { orders, exchange, bus } = this.deps;
    const row = await orders.requestCancel(clientOrderId);
    if (!row) return;
    if (row.status === 'cancelled') {
      await bus.publish(row.gridId, { kind: 'cancelled', clientOrderId });
      return;
    }
    if (row.status !== 'placed') return;
    const outcome = await exchange.cancelOrder(row.symbol, clientOrderId);
    if (
      outcome.kind === 'cancelled' ||
      outcome.kind === 'unknown' ||
      (outcome.kind === 'not-open' && outcome.status !== 'filled')
    ) {
      if (await orders.cancelPlaced(clientOrderId))
        await bus.publish(row.gridId, { kind: 'cancelled', clientOrderId });
    }
    // Filled before the cancel arrived: the execution reaches the engine as a fill.
  }

  private async announce(
    gridId: string,
    symbol: string,
    event: GridEvent,
    result: AppliedEvent,
    /** The grid version this event's commit produced: what names a lifecycle message for good. */
    version: number,
    side: 'buy' | 'sell' | null,
    fee: string | null,
  ): Promise<void> {
    const notifications: Notification[] = [];
    const state = result.state!;
    if (event.kind === 'fill') {
      const cycle = result.notes.find((n) => n.kind === 'cycle-complete');
      const purpose = purposeOf(event.clientOrderId);
      const qty = decText(new Dec(state.plan!.qtyStep).times(event.lots));
      notifications.push({
        category: 'fills',
        severity: 'info',
        key: `fill-${event.execId}`,
        gridId,
        title: `${symbol} ${side} ${qty} @ ${priceText(event.price)}${purpose === 'grid' ? '' : ` (${purpose})`}`,
        lines: [
          ...(fee ? [`fee ${fee}`] : []),
          ...(cycle && cycle.kind === 'cycle-complete' ? [`cycle profit ${cycle.profit}`] : []),
        ],
      });
    }
    // A step that shifts several lines at once (a price jump) says so in one message; the shift count names it for
    // good, so a redelivered event announces nothing twice.
    const shifts = result.notes.filter((n) => n.kind === 'trailing-shift');
    const at = (cell: number) => {
      const placed = result.commands.find((c) => c.kind === 'place' && c.cell === cell);
      return placed?.kind === 'place' && placed.priceText ? ` @ ${placed.priceText}` : '';
    };
    const last = shifts.at(-1);
    if (last) {
      notifications.push({
        category: 'lifecycle',
        severity: 'info',
        key: `trailing-${gridId}-${last.shifts}`,
        gridId,
        title: `${symbol} grid ${gridId} trailing up: now ${last.lower}–${last.upper}`,
        lines: [
          shifts.length === 1
            ? `moved up one line: cell ${last.left} left, cell ${last.cell} buys ${last.qty}${at(last.cell)}`
            : `moved up ${shifts.length} lines at once; the new top cell ${last.cell} buys ${last.qty}${at(last.cell)}`,
          `${last.shifts} shift${last.shifts === 1 ? '' : 's'} so far`,
        ],
      });
    }
    for (const note of result.notes) {
      if (note.kind === 'trailing-ended') {
        notifications.push({
          category: 'lifecycle',
          severity: 'warning',
          key: `trailing-ended-${gridId}`,
          gridId,
          title: `${symbol} grid ${gridId} stopped trailing up`,
          lines: [note.message, 'it trades its last range as a fixed grid from now on'],
        });
      } else if (note.kind === 'waiting') {
        notifications.push({
          category: 'lifecycle',
          severity: 'info',
          key: `waiting-${gridId}`,
          gridId,
          title: `${symbol} grid ${gridId} waiting for ${note.trigger}`,
          lines: ['it starts when the price reaches its trigger; nothing trades until then'],
        });
      } else if (note.kind === 'triggered') {
        notifications.push({
          category: 'lifecycle',
          severity: 'success',
          key: `triggered-${gridId}`,
          gridId,
          title: `${symbol} grid ${gridId} triggered at ${note.price}`,
          lines: ['the price reached its trigger: the grid starts there'],
        });
      }
    }
    for (const note of result.notes) {
      if (note.kind === 'started') {
        notifications.push({
          category: 'lifecycle',
          severity: 'success',
          key: `started-${gridId}`,
          gridId,
          title: `${symbol} grid ${gridId} started`,
          lines: [`quantity per grid ${note.qtyPerGrid}, gap line ${note.gapLine}`],
        });
      } else if (note.kind === 'stopped') {
        notifications.push({
          category: 'lifecycle',
          severity: note.reason === 'manual' ? 'info' : 'warning',
          key: `stopped-${gridId}`,
          gridId,
          title: `${symbol} grid ${gridId} stopped (${note.reason})`,
          lines: [`realized ${state.ledger.gridProfit}, fees ${state.ledger.fees}`],
        });
      } else if (note.kind === 'invalid' || note.kind === 'order-rejected') {
        notifications.push({
          category: 'error',
          severity: 'warning',
          key: `${note.kind}-${gridId}-${'clientOrderId' in note ? note.clientOrderId : 'start'}`,
          gridId,
          title: `${symbol} grid ${gridId}: ${note.kind === 'invalid' ? note.message : `order ${note.clientOrderId} refused (${note.reason})`}`,
          lines: [],
        });
      }
    }
    if (event.kind === 'pause' || event.kind === 'resume') {
      notifications.push({
        category: 'lifecycle',
        severity: 'info',
        // The version the pause or resume produced: a second announcement of the same change is the same message.
        key: `${event.kind}-${gridId}-v${version}`,
        gridId,
        title: `${symbol} grid ${gridId} ${event.kind === 'pause' ? 'paused' : 'resumed'}`,
        lines: [],
      });
    }
    for (const n of notifications) await this.deps.notifier.notify(n);
  }
}

/** Every order the grid has out, a leaving cell's (trailing up) included: a fill on any of them is a trade. */
function findOrder(state: GridState, clientOrderId: string): OpenOrder | null {
  return openOrders(state).find((o) => o.clientOrderId === clientOrderId) ?? null;
}

/** Runs `work` on every item, at most 8 at once. */
async function bounded<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
}

function toGuarded(o: OrderToSend): GuardedOrder {
  return {
    clientOrderId: o.clientOrderId,
    gridId: o.gridId,
    symbol: o.symbol,
    side: o.side,
    purpose: o.purpose,
    price: o.price === null ? null : decText(o.price),
    qty: decText(o.quantity),
  };
}

/** A held order's reason in the store: its rule first, so that a prefix finds the orders one rule holds. */
function heldReason(reason: RefusalReason, message: string): string {
  return `pre-trade ${reason}: ${message}`;
}

function heldKind(reason: string | null): string {
  return /^pre-trade ([a-z-]+):/.exec(reason ?? '')?.[1] ?? 'unknown';
}

function toRequest(order: OrderToSend): PlaceOrderRequest {
  return {
    symbol: order.symbol,
    clientOrderId: order.clientOrderId,
    side: order.side,
    type: order.type,
    price: order.price === null ? null : decText(order.price),
    qty: decText(order.quantity),
  };
}

export function purposeOf(clientOrderId: string): 'grid' | 'start' | 'exit' {
  if (/^g\d+-s\d+$/.test(clientOrderId)) return 'start';
  if (/^g\d+-x\d+$/.test(clientOrderId)) return 'exit';
  return 'grid';
}
