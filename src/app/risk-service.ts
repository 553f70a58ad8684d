import { err, ok, type Result } from '../engine/result.js';
import type { Exchange } from '../exchange/exchange.js';
import type { Logger } from '../log/logger.js';
import type { Actor, ServiceError } from './actor.js';
import type { GridProcessor } from './grid-processor.js';
import type { AuditLog } from './ports/audit.js';
import { gridIdOf, type NotificationSink } from './ports/core.js';
import type { KillSwitchReader } from './ports/kill-switch.js';
import type { Incident, KillFlag, KillState, KillSwitchStore } from './ports/risk.js';

export type { Incident, KillState } from './ports/risk.js';

export interface RiskServiceDeps {
  /** The state, in Postgres: the source of truth. */
  readonly store: KillSwitchStore;
  /** The copy every placement reads (this database's, under its scope). */
  readonly flag: KillFlag;
  readonly audit: AuditLog;
  readonly exchange: Exchange;
  readonly processor: GridProcessor;
  readonly notifier: NotificationSink;
  readonly log: Logger;
  /** How long the kill keeps retrying cancellations while the exchange fails. */
  readonly cancelDeadlineMs?: number;
  /** Sell every grid's base at market once the orders are gone (KILL_SELL_BASE). */
  readonly sellBaseOnKill?: boolean;
}

/**
 * The kill switch. Killing stops every grid, cancels every open order on the exchange (all of a symbol at once),
 * retries until the exchange confirms none is left or stops answering, records an incident, and alerts. The killed
 * state lives in Postgres (a restart stays killed) and in Redis (what every placement checks). Only an operator
 * resets it.
 */
export class RiskService implements KillSwitchReader {
  constructor(private readonly deps: RiskServiceDeps) {}

  /** Cheap, for every placement: the Redis flag (set from Postgres at start). */
  isKilled(): Promise<boolean> {
    return this.deps.flag.isKilled();
  }

  /** At start: Redis learns the state from Postgres, the source of truth. */
  async restore(): Promise<void> {
    await this.deps.flag.set((await this.state()).killed);
  }

  state(): Promise<KillState> {
    return this.deps.store.state();
  }

  async kill(
    actor: Actor,
    trigger: string,
    figures: unknown = null,
  ): Promise<Result<Incident, ServiceError>> {
    if (actor.role !== 'operator') return err({ kind: 'forbidden', message: 'kill needs an operator' });
    const started = Date.now();
    const { store, flag, exchange, processor, log } = this.deps;
    if (!(await store.claimKill(trigger, figures))) {
      const state = await this.state();
      if (state.lastIncident) return ok(state.lastIncident); // already killed: the same incident, nothing twice
      return err({ kind: 'conflict', message: 'the kill switch is already on' });
    }
    await flag.set(true);
    log.error({ trigger, figures }, 'KILL SWITCH: stopping every grid and cancelling every order');

    // 1. Every grid stops (the engine forgets no order: its cancels are recorded and settled as they come back).
    const grids = await store.gridsToStop();
    await Promise.all(
      grids.map((id) => processor.apply(id, { kind: 'stop', by: 'kill' }, { sendCancels: false })),
    );

    // 2. Every open order of ours goes, a symbol at a time, until the exchange confirms none is left.
    const deadline = started + (this.deps.cancelDeadlineMs ?? 30_000);
    const ours = async () => (await exchange.openOrders()).filter((o) => gridIdOf(o.clientOrderId) !== null);
    let before = -1;
    let left: Awaited<ReturnType<typeof ours>> = [];
    let unreachable = false;
    for (let attempt = 0; ; attempt++) {
      try {
        left = await ours();
        if (before < 0) before = left.length;
        if (left.length === 0) break;
        for (const symbol of new Set(left.map((o) => o.symbol))) await exchange.cancelAll(symbol);
      } catch (e) {
        log.warn(`kill switch: the exchange failed (${(e as Error).message}); retrying`);
        if (Date.now() > deadline) {
          unreachable = true;
          break;
        }
      }
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
    }
    const outcome: Incident['outcome'] = unreachable
      ? 'exchange-unreachable'
      : left.length === 0
        ? 'all-cancelled'
        : 'orders-left';
    const durationMs = Date.now() - started;
    const sellOff = await this.sellOff(outcome, grids);
    const incident = await store.recordIncident({
      trigger,
      actor: `${actor.via}:${actor.id}`,
      figures,
      ordersOpenBefore: Math.max(before, 0),
      ordersOpenAfter: left.length,
      gridsStopped: grids.length,
      durationMs,
      outcome,
      sellOff,
    });
    await this.audit(actor, 'kill', outcome, { trigger, incident: incident.id });
    // The engines' bookkeeping, in the background (the exchange is already clean): each cancelled order is confirmed
    // to its grid, one lookup each (a filled one waits for its fill); the reconciler finishes what this does not.
    this.settling = this.confirmCancels().catch((e) => log.warn(`after the kill: ${(e as Error).message}`));
    await this.deps.notifier.notify({
      category: 'risk',
      severity: 'critical',
      key: `kill-${incident.id}`,
      title: `KILL SWITCH ON (${trigger})`,
      lines: [
        `${grids.length} grids stopped; ${incident.ordersOpenBefore} open orders, ${incident.ordersOpenAfter} left (${outcome})`,
        `in ${durationMs} ms; reset only by an operator after reading this incident (#${incident.id})`,
        ...(sellOff === 'off' ? [] : [`base sell-off: ${sellOff}`]),
      ],
    });
    return ok(incident);
  }

  /**
   * The optional exit: each stopped grid holding base sells it at market (the engine's exit order, the only order the
   * kill switch lets out). Only once the exchange has confirmed the grid orders gone, so no base is locked in them; and
   * never when the exchange did not answer, since the market sell would leave whenever it came back, at any price.
   * Grids stopped before the kill keep what they hold: their owner chose that.
   */
  private async sellOff(outcome: Incident['outcome'], stoppedNow: string[]): Promise<string> {
    if (!this.deps.sellBaseOnKill) return 'off';
    if (outcome !== 'all-cancelled') return `skipped: ${outcome}`;
    const holding = await this.deps.store.stoppedHoldingBase(stoppedNow);
    for (const id of holding) await this.deps.processor.apply(id, { kind: 'sell-base' });
    return `${holding.length} grid${holding.length === 1 ? '' : 's'} selling base at market`;
  }

  private settling: Promise<void> = Promise.resolve();

  /** Resolves once the engines have heard about every order the last kill cancelled. */
  settled(): Promise<void> {
    return this.settling;
  }

  private async confirmCancels(): Promise<void> {
    const queue = await this.deps.store.cancelsToConfirm();
    await Promise.all(
      Array.from({ length: Math.min(8, queue.length) }, async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift())
          await this.deps.processor.requestCancel(id);
      }),
    );
  }

  async reset(actor: Actor): Promise<Result<KillState, ServiceError>> {
    if (actor.role !== 'operator') {
      await this.audit(actor, 'reset', 'refused: forbidden', null);
      return err({ kind: 'forbidden', message: 'reset needs an operator' });
    }
    if (!(await this.deps.store.claimReset(`${actor.via}:${actor.id}`)))
      return err({ kind: 'conflict', message: 'the kill switch is not on' });
    await this.deps.flag.set(false);
    await this.audit(actor, 'reset', 'ok', null);
    return ok(await this.state());
  }

  private async audit(actor: Actor, action: string, outcome: string, detail: unknown): Promise<void> {
    await this.deps.audit.record({ actor, action, target: 'kill-switch', outcome, detail });
  }
}
