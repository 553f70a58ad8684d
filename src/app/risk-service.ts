import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { err, ok, type Result } from '../engine/result.js';
import type { Exchange } from '../exchange/exchange.js';
import type { Logger } from '../log/logger.js';
import type { Actor, ServiceError } from './actor.js';
import type { GridProcessor } from './grid-processor.js';
import { gridIdOf, type NotificationSink } from './ports.js';

export interface KillState {
  readonly killed: boolean;
  readonly killedAt: string | null;
  readonly trigger: string | null;
  readonly figures: unknown;
  readonly lastIncident: Incident | null;
}

export interface Incident {
  readonly id: string;
  readonly at: string;
  readonly trigger: string;
  readonly actor: string;
  readonly figures: unknown;
  readonly ordersOpenBefore: number;
  readonly ordersOpenAfter: number;
  readonly gridsStopped: number;
  readonly durationMs: number;
  readonly outcome: 'all-cancelled' | 'exchange-unreachable' | 'orders-left';
  /** 'off', or what the optional sell-off of base did ('3 grids sold at market', 'skipped: ...'). */
  readonly sellOff: string;
}

export interface RiskServiceDeps {
  readonly ds: DataSource;
  readonly redis: Redis;
  /** The Redis prefix of this database's own keys (databaseScope): the kill flag is this database's. */
  readonly scope: string;
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
export class RiskService {
  constructor(private readonly deps: RiskServiceDeps) {}

  private get flagKey(): string {
    return `${this.deps.scope}:killed`;
  }

  /** Cheap, for every placement: the Redis flag (set from Postgres at start). */
  async isKilled(): Promise<boolean> {
    return (await this.deps.redis.get(this.flagKey)) === '1';
  }

  /** At start: Redis learns the state from Postgres, the source of truth. */
  async restore(): Promise<void> {
    const state = await this.state();
    if (state.killed) await this.deps.redis.set(this.flagKey, '1');
    else await this.deps.redis.del(this.flagKey);
  }

  async state(): Promise<KillState> {
    const [row] = (await this.deps.ds.query(
      `SELECT killed, killed_at, trigger, figures FROM risk_state WHERE id = 1`,
    )) as {
      killed: boolean;
      killed_at: Date | null;
      trigger: string | null;
      figures: unknown;
    }[];
    const [incident] = (await this.deps.ds.query(
      `SELECT * FROM risk_incident ORDER BY id DESC LIMIT 1`,
    )) as Record<string, unknown>[];
    return {
      killed: row?.killed ?? false,
      killedAt: row?.killed_at ? new Date(row.killed_at).toISOString() : null,
      trigger: row?.trigger ?? null,
      figures: row?.figures ?? null,
      lastIncident: incident ? toIncident(incident) : null,
    };
  }

  async kill(
    actor: Actor,
    trigger: string,
    figures: unknown = null,
  ): Promise<Result<Incident, ServiceError>> {
    if (actor.role !== 'operator') return err({ kind: 'forbidden', message: 'kill needs an operator' });
    const started = Date.now();
    const { ds, redis, exchange, processor, log } = this.deps;
    const [[claimed]] = (await ds.query(
      `UPDATE risk_state SET killed = true, killed_at = now(), trigger = $1, figures = $2, reset_at = NULL, reset_by = NULL
        WHERE id = 1 AND NOT killed RETURNING killed_at`,
      [trigger, JSON.stringify(figures)],
    )) as [{ killed_at: Date }[], number];
    if (!claimed) {
      const state = await this.state();
      if (state.lastIncident) return ok(state.lastIncident); // already killed: the same incident, nothing twice
      return err({ kind: 'conflict', message: 'the kill switch is already on' });
    }
    await redis.set(this.flagKey, '1');
    log.error({ trigger, figures }, 'KILL SWITCH: stopping every grid and cancelling every order');

    // 1. Every grid stops (the engine forgets no order: its cancels are recorded and settled as they come back).
    const grids = (await ds.query(
      `SELECT id FROM grid WHERE status IN ('running', 'paused', 'created')`,
    )) as {
      id: string;
    }[];
    await Promise.all(
      grids.map((g) => processor.apply(g.id, { kind: 'stop', by: 'kill' }, { sendCancels: false })),
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
    const sellOff = await this.sellOff(
      outcome,
      grids.map((g) => g.id),
    );
    const [row] = (await ds.query(
      `INSERT INTO risk_incident (trigger, actor, figures, orders_open_before, orders_open_after, grids_stopped, duration_ms,
         outcome, sell_off) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      [
        trigger,
        `${actor.via}:${actor.id}`,
        JSON.stringify(figures),
        Math.max(before, 0),
        left.length,
        grids.length,
        durationMs,
        outcome,
        sellOff,
      ],
    )) as Record<string, unknown>[];
    const incident = toIncident(row!);
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
    const holding = (await this.deps.ds.query(
      `SELECT id FROM grid WHERE id = ANY($1) AND status = 'stopped' AND base_qty > 0 ORDER BY id`,
      [stoppedNow],
    )) as { id: string }[];
    for (const g of holding) await this.deps.processor.apply(g.id, { kind: 'sell-base' });
    return `${holding.length} grid${holding.length === 1 ? '' : 's'} selling base at market`;
  }

  private settling: Promise<void> = Promise.resolve();

  /** Resolves once the engines have heard about every order the last kill cancelled. */
  settled(): Promise<void> {
    return this.settling;
  }

  private async confirmCancels(): Promise<void> {
    const pending = (await this.deps.ds.query(
      `SELECT client_order_id FROM grid_order WHERE status = 'placed' AND cancel_requested`,
    )) as { client_order_id: string }[];
    const queue = pending.map((p) => p.client_order_id);
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
    const [[row]] = (await this.deps.ds.query(
      `UPDATE risk_state SET killed = false, reset_at = now(), reset_by = $1 WHERE id = 1 AND killed RETURNING id`,
      [`${actor.via}:${actor.id}`],
    )) as [{ id: number }[], number];
    if (!row) return err({ kind: 'conflict', message: 'the kill switch is not on' });
    await this.deps.redis.del(this.flagKey);
    await this.audit(actor, 'reset', 'ok', null);
    return ok(await this.state());
  }

  private async audit(actor: Actor, action: string, outcome: string, detail: unknown): Promise<void> {
    await this.deps.ds.query(
      `INSERT INTO audit_log (actor, via, role, action, target, outcome, detail) VALUES ($1, $2, $3, $4, 'kill-switch', $5, $6)`,
      [actor.id, actor.via, actor.role, action, outcome, detail === null ? null : JSON.stringify(detail)],
    );
  }
}

function toIncident(r: Record<string, unknown>): Incident {
  return {
    id: String(r.id),
    at: new Date(r.at as Date).toISOString(),
    trigger: String(r.trigger),
    actor: String(r.actor),
    figures: r.figures ?? null,
    ordersOpenBefore: Number(r.orders_open_before),
    ordersOpenAfter: Number(r.orders_open_after),
    gridsStopped: Number(r.grids_stopped),
    durationMs: Number(r.duration_ms),
    outcome: r.outcome as Incident['outcome'],
    sellOff: String(r.sell_off ?? 'off'),
  };
}
