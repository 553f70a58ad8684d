import type { Logger } from '../log/logger.js';
import type { Actor } from './actor.js';
import type { GridService, GridSummary } from './grid-service.js';
import { ALERT_CHUNK, type AlertGrid, type AlertStore, type PendingAlert } from './ports/alerts.js';
import type { Notification, NotificationSink } from './ports/core.js';
import { ACTIONS, type AlertAction, type AlertOperation, type ParsedAlert } from './tradingview.js';

export const TRADINGVIEW_ACTOR: Actor = { id: 'tradingview', via: 'webhook', role: 'operator' };

export interface AlertView {
  readonly id: string;
  readonly source: string;
  readonly externalId: string | null;
  readonly symbol: string | null;
  readonly action: string;
  readonly price: string | null;
  readonly zone: string | null;
  readonly sender: string | null;
  readonly processed: boolean;
  readonly outcome: string | null;
  readonly receivedAt: string;
  readonly processedAt: string | null;
}

export interface IntakeResult {
  readonly alertId: string;
  /** Already recorded under the same id: acknowledged, not acted on again. */
  readonly duplicate: boolean;
}

/** Where recorded alerts go to be applied: the `alerts` queue in the app. */
export interface AlertQueue {
  enqueue(alerts: readonly { readonly id: string; readonly symbol: string }[]): Promise<void>;
}

interface Pending {
  readonly alert: ParsedAlert;
  readonly sender: string | null;
  readonly resolve: (r: IntakeResult) => void;
  readonly reject: (e: unknown) => void;
}

const MAX_BATCH = 256;
/** What one job of the alerts queue may carry (its payload schema allows 1,000). */
const MAX_JOB_ALERTS = 1000;
// One write at a time (group commit): the alerts that arrive meanwhile make the next batch. Measured here, two or
// four writes at once made batches smaller and each alert dearer (a socket write per statement is the cost).
const MAX_IN_FLIGHT = 1;

/**
 * Records alerts and hands them to the queue. Under load, alerts that arrive while a write is in flight go together
 * in the next one (one INSERT for the lot): at low load each alert is written alone and at once, so batching costs no
 * latency. A duplicate id is found by the table's unique key, in the same statement. Senders are answered once their
 * alerts are recorded; the queue is told `applyDelayMs` after the first of them, once for all recorded meanwhile.
 */
export class AlertIntake {
  private pending: Pending[] = [];
  private inFlight = 0;
  private toQueue: { id: string; symbol: string }[] = [];
  private queueing: Promise<void> | null = null;
  private signalTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: {
      store: AlertStore;
      queue: AlertQueue;
      log: Logger;
      /**
       * How long recorded alerts wait before the queue is told of them (TV_APPLY_DELAY_MS). Those recorded meanwhile
       * go in the same request, so a burst asks for a run a few dozen times a second, not once per write; each
       * request is a dozen Redis commands and a worker run a dozen more, whatever they carry.
       */
      applyDelayMs: number;
    },
  ) {}

  submit(alert: ParsedAlert, sender: string | null): Promise<IntakeResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ alert, sender, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH);
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.kick();
      });
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    let rows: Awaited<ReturnType<AlertStore['record']>>;
    try {
      rows = await this.deps.store.record(
        batch.map((p) => ({
          externalId: p.alert.externalId,
          symbol: p.alert.symbol,
          action: p.alert.action,
          payload: p.alert.payload,
          sender: p.sender,
        })),
      );
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    // Recorded is accepted: the senders are answered now, and the queue hears of the alerts right after (the
    // worker's sweep applies recorded alerts that never reached it, should this process die in between).
    for (const r of rows) {
      const p = batch[r.n - 1]!;
      if (r.inserted) p.resolve({ alertId: r.id, duplicate: false });
      else
        this.deps.store.idOf(p.alert.externalId).then(
          (alertId) => p.resolve({ alertId, duplicate: true }),
          (e: unknown) => p.reject(e),
        );
    }
    this.toQueue.push(
      ...rows.filter((r) => r.inserted).map((r) => ({ id: r.id, symbol: batch[r.n - 1]!.alert.symbol })),
    );
    this.signalSoon();
  }

  /** Tells the queue `applyDelayMs` from now, unless a signal is already due or on its way (it will be again after). */
  private signalSoon(): void {
    if (this.toQueue.length === 0 || this.signalTimer !== null || this.queueing !== null) return;
    this.signalTimer = setTimeout(() => {
      this.signalTimer = null;
      this.signal();
    }, this.deps.applyDelayMs);
  }

  private signal(): void {
    // pump() always awaits before it ends, so it is recorded as running before it can finish.
    if (this.queueing === null && this.toQueue.length > 0) this.queueing = this.pump();
  }

  /**
   * Hands what was recorded so far to the queue, in the order recorded and in chunks a job can carry, without holding
   * up the next write. What is recorded meanwhile waits for the next signal.
   */
  private async pump(): Promise<void> {
    try {
      const due = this.toQueue.splice(0);
      for (let i = 0; i < due.length; i += MAX_JOB_ALERTS) {
        try {
          await this.deps.queue.enqueue(due.slice(i, i + MAX_JOB_ALERTS));
        } catch (e) {
          this.deps.log.warn(
            `alerts recorded but not queued (the sweep will apply them): ${(e as Error).message}`,
          );
        }
      }
    } finally {
      this.queueing = null;
      this.signalSoon();
    }
  }

  /** Tells the queue now of every alert recorded so far (at shutdown), and resolves once it has been told. */
  async flushed(): Promise<void> {
    for (;;) {
      if (this.signalTimer !== null) {
        clearTimeout(this.signalTimer);
        this.signalTimer = null;
      }
      this.signal();
      if (this.queueing === null) return;
      await this.queueing;
    }
  }
}

const PAST: Record<AlertOperation, string> = { resume: 'resumed', pause: 'paused', stop: 'stopped' };
/** Grids already where the operation would take them: said, not asked again of the service. */
const ALREADY: Record<AlertOperation, readonly GridSummary['status'][]> = {
  resume: ['running'],
  pause: ['paused'],
  stop: [],
};
/** A chunk of several alerts reaches the chat as one message listing this many. */
const DIGEST_LINES = 10;

interface Applied {
  readonly id: string;
  readonly symbol: string;
  readonly action: string;
  readonly title: string;
  readonly outcome: string;
  readonly severity: Notification['severity'];
}

/**
 * Applies recorded alerts: each symbol's in the order they were recorded (a "sell" then a "buy" must not swap), under
 * a Postgres advisory lock per symbol so that any number of workers agree. Outcomes are written a chunk at a time,
 * after the chat has been told; alerts applied but not yet marked when a process dies are applied again, which the
 * grid operations make harmless (a grid already paused stays paused, and that is the outcome recorded).
 */
export class AlertProcessor {
  constructor(
    private readonly deps: {
      store: AlertStore;
      grids: GridService;
      notifier: NotificationSink;
      log: Logger;
    },
  ) {}

  /**
   * Applies every unprocessed alert, each symbol's in order. The queue keeps at most one of these jobs waiting (and
   * one running), so under a burst each run applies everything recorded while the previous one ran.
   */
  async process(): Promise<number> {
    return this.drain(await this.deps.store.pendingSymbols());
  }

  /** Applies recorded alerts older than `olderThanMs` that never reached the queue (or whose job gave up). */
  async sweep(olderThanMs: number): Promise<number> {
    return this.drain(await this.deps.store.staleSymbols(olderThanMs));
  }

  private async drain(symbols: readonly string[]): Promise<number> {
    // Sorted: workers taking overlapping sets of locks take them in one order, so they cannot deadlock.
    const sorted = [...new Set(symbols)].sort();
    if (sorted.length === 0) return 0;
    return this.deps.store.withSymbolsLocked(sorted, async (locked) => {
      let total = 0;
      for (;;) {
        const { alerts, grids: initial } = await locked.nextChunk();
        if (alerts.length === 0) break;
        const done: Applied[] = [];
        const grids = new SymbolGrids(this.deps.store, sorted, initial);
        for (const a of alerts) done.push(await this.apply(a.symbol, a, grids));
        // Told first, then marked: a crash in between repeats the message (its key lets the queue drop a repeat)
        // rather than losing it.
        await this.notify(done);
        const last = alerts.length < ALERT_CHUNK;
        await locked.mark(done, last);
        total += alerts.length;
        if (last) break;
      }
      return total;
    });
  }

  private async apply(symbol: string, alert: PendingAlert, symbolGrids: SymbolGrids): Promise<Applied> {
    const operation = Object.hasOwn(ACTIONS, alert.type) ? ACTIONS[alert.type as AlertAction] : undefined;
    const gridRef = typeof alert.payload.grid === 'string' ? alert.payload.grid : null;
    const price = typeof alert.payload.price === 'string' ? ` @ ${alert.payload.price}` : '';
    const zone = typeof alert.payload.zone === 'string' ? ` (${alert.payload.zone})` : '';
    const title = `TradingView ${alert.type} ${symbol}${price}${zone}`;
    if (!operation) {
      // Only parsed alerts are recorded; a row edited by hand is refused rather than guessed at.
      return {
        id: alert.id,
        symbol,
        action: alert.type,
        title,
        outcome: `unknown action ${alert.type}`,
        severity: 'warning',
      };
    }
    const grids = (await symbolGrids.active()).filter(
      (g) => g.symbol === symbol && (gridRef === null || g.id === gridRef || g.name === gridRef),
    );
    const lines: string[] = [];
    let applied = 0;
    let refused = 0;
    if (grids.length === 0) {
      lines.push(gridRef ? `no active grid ${gridRef} on ${symbol}` : `no active grid on ${symbol}`);
    }
    for (const g of grids) {
      if (ALREADY[operation].includes(g.status)) {
        lines.push(`${g.id} already ${g.status}`);
        continue;
      }
      const r = await this.deps.grids[operation](TRADINGVIEW_ACTOR, g.id);
      symbolGrids.changed();
      if (r.ok) {
        applied++;
        lines.push(`${g.id} ${PAST[operation]}`);
      } else {
        refused++;
        lines.push(`${g.id} not ${PAST[operation]}: ${r.error.message}`);
      }
    }
    return {
      id: alert.id,
      symbol,
      action: alert.type,
      title,
      outcome: lines.join('; '),
      severity: refused > 0 ? 'warning' : applied > 0 ? 'success' : 'info',
    };
  }

  /** One message per alert; a burst applied together is one message, so a flood of alerts is not a flood of chat. */
  private async notify(done: readonly Applied[]): Promise<void> {
    const first = done[0];
    if (!first) return;
    if (done.length === 1) {
      await this.deps.notifier.notify({
        category: 'tradingview',
        severity: first.severity,
        key: `tv-${first.id}`,
        title: first.title,
        lines: [first.outcome],
      });
      return;
    }
    const rank = { info: 0, success: 1, warning: 2, critical: 3 } as const;
    const worst = done.reduce((w, d) => (rank[d.severity] > rank[w] ? d.severity : w), first.severity);
    await this.deps.notifier.notify({
      category: 'tradingview',
      severity: worst,
      key: `tv-${first.id}-${done.at(-1)!.id}`,
      title: `TradingView: ${done.length} alerts (${[...new Set(done.map((d) => d.symbol))].sort().join(', ')})`,
      lines: [
        ...done.slice(0, DIGEST_LINES).map((d) => `#${d.id} ${d.action}: ${d.outcome}`),
        ...(done.length > DIGEST_LINES
          ? [`... and ${done.length - DIGEST_LINES} more (/api/alerts lists them)`]
          : []),
      ],
    });
  }
}

/**
 * The grids of the symbols being drained, as a chunk of alerts sees them: read with the chunk, and again after any
 * operation. Between two reads only this drain acts on alerts of these symbols; a human acting in the same
 * milliseconds races the alert either way.
 */
class SymbolGrids {
  private cached: Promise<AlertGrid[]> | null;

  constructor(
    private readonly store: AlertStore,
    private readonly symbols: readonly string[],
    initial: AlertGrid[],
  ) {
    this.cached = Promise.resolve(initial);
  }

  active(): Promise<AlertGrid[]> {
    this.cached ??= this.store.activeGrids(this.symbols);
    return this.cached;
  }

  changed(): void {
    this.cached = null;
  }
}

/** The latest alerts, newest first. */
export async function recentAlerts(store: Pick<AlertStore, 'recent'>, limit: number): Promise<AlertView[]> {
  const rows = await store.recent(Math.max(1, Math.min(limit, 500)));
  return rows.map((r) => ({
    id: r.id,
    source: r.source,
    externalId: r.externalId,
    symbol: r.symbol,
    action: r.type,
    price: typeof r.payload?.price === 'string' ? r.payload.price : null,
    zone: typeof r.payload?.zone === 'string' ? r.payload.zone : null,
    sender: r.sender,
    processed: r.processed,
    outcome: r.outcome,
    receivedAt: new Date(r.createdAt).toISOString(),
    processedAt: r.processedAt ? new Date(r.processedAt).toISOString() : null,
  }));
}
