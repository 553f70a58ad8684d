import { z } from 'zod';
import type { GridEvent } from '../engine/grid/events.js';
import { DEFAULT_FEE, type GridParams, MAX_GRIDS, MIN_GRIDS } from '../engine/grid/params.js';
import { type GridPlan, planGrid, planLines } from '../engine/grid/plan.js';
import { createGridState } from '../engine/grid/state.js';
import { Dec, decText, priceDec, priceText, toPriceUnits } from '../engine/money.js';
import { err, ok, type Result } from '../engine/result.js';
import type { MarketInstrument } from '../exchange/exchange.js';
import type { Logger } from '../log/logger.js';
import type { PriceCache } from '../market/price-cache.js';
import type { Actor, ServiceError } from './actor.js';
import type { GridProcessor } from './grid-processor.js';
import { canApply, type LifecycleAction } from './lifecycle.js';
import type { AuditLog } from './ports/audit.js';
import { GridNameTaken, type GridRecord, type GridStore } from './ports/grids.js';
import type { OrderStore } from './ports/orders.js';
import type { Transactions, Tx } from './ports/tx.js';

const decimal = (what: string) =>
  z
    .union([z.string(), z.number()])
    .transform((v) => String(v))
    .pipe(
      z.string().regex(/^(?:0|[1-9]\d*)(?:\.\d+)?$/, { error: `${what} must be a plain positive decimal` }),
    );

export const CreateGridInput = z.object({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'name may use letters, digits, _ . - (at most 64)' })
    .optional(),
  symbol: z
    .string()
    .transform((s) => s.toUpperCase())
    .pipe(z.string().regex(/^[A-Z0-9]{2,20}$/, { error: 'symbol must look like BTCUSDT' })),
  lower: decimal('lower'),
  upper: decimal('upper'),
  grids: z.coerce
    .number({ error: 'grids must be a whole number' })
    .int({ error: 'grids must be a whole number' })
    .min(MIN_GRIDS, { error: `grids must be from ${MIN_GRIDS} to ${MAX_GRIDS}` })
    .max(MAX_GRIDS, { error: `grids must be from ${MIN_GRIDS} to ${MAX_GRIDS}` }),
  mode: z
    .enum(['arithmetic', 'geometric'], { error: 'mode must be arithmetic or geometric' })
    .default('arithmetic'),
  investment: decimal('investment'),
  stopLoss: decimal('stopLoss').optional(),
  takeProfit: decimal('takeProfit').optional(),
  /** Trailing up (docs/grid-rules.md): the grid follows a rising price one line at a time. */
  trailingUp: z.boolean({ error: 'trailingUp must be true or false' }).optional(),
  /** The highest the window's top line may go when trailing up; needs trailingUp and lies above upper. */
  trailingCap: decimal('trailingCap').optional(),
  /** The grid waits until the price reaches this, then starts there (docs/grid-rules.md, "Trigger price"). */
  trigger: decimal('trigger').optional(),
  start: z.boolean().default(true),
});
export type CreateGridInput = z.input<typeof CreateGridInput>;

export interface GridSummary {
  readonly id: string;
  readonly name: string;
  readonly symbol: string;
  readonly status: 'created' | 'waiting' | 'running' | 'paused' | 'stopped';
  readonly stopReason: string | null;
  readonly mode: 'arithmetic' | 'geometric';
  readonly lower: string;
  readonly upper: string;
  readonly grids: number;
  readonly investment: string;
  readonly stopLoss: string | null;
  readonly takeProfit: string | null;
  readonly demo: boolean;
  readonly openOrders: number;
  readonly baseQty: string;
  readonly quoteBalance: string;
  readonly realizedPnl: string;
  readonly fees: string;
  readonly unrealizedPnl: string | null;
  readonly lastPrice: string | null;
  readonly createdAt: string;
}

export interface GridPreview {
  readonly symbol: string;
  readonly mode: 'arithmetic' | 'geometric';
  readonly lower: string;
  readonly upper: string;
  readonly grids: number;
  readonly investment: string;
  /** The price the plan was made at. */
  readonly price: string;
  /** Between lines: a price step (arithmetic) or a percentage (geometric). */
  readonly spacing: string;
  readonly qtyPerGrid: string;
  /** One cycle's profit after maker fees on both sides, for the narrowest and the widest cell. */
  readonly profitPerGridMin: string;
  readonly profitPerGridMax: string;
  /** How many buys rest below the price at start. */
  readonly buysBelow: number;
  /** Base bought at market at start for the cells above the price. */
  readonly baseToBuy: string;
  readonly stopLoss: string | null;
  readonly takeProfit: string | null;
  readonly trailingUp: boolean;
  /** The highest top line trailing up may reach; null: no limit (or no trailing). */
  readonly trailingCap: string | null;
  /** The price the grid waits for, and starts at (then `price` is this); null: it starts at the latest price. */
  readonly trigger: string | null;
}

export interface GridServiceDeps {
  readonly grids: Omit<GridStore, 'load' | 'commitStep' | 'qtyStep' | 'priceTriggers'>;
  readonly orders: Pick<OrderStore, 'openCount'>;
  readonly audit: AuditLog;
  /** Creation checks the caps and inserts in one transaction. */
  readonly transactions: Transactions;
  readonly processor: GridProcessor;
  readonly prices: PriceCache;
  readonly instrument: (symbol: string) => MarketInstrument | undefined;
  /** The exchange's cap on open orders per account, or null. */
  readonly maxOpenOrders: number | null;
  /** While the kill switch is on, no grid starts or resumes. */
  readonly isKilled: () => Promise<boolean>;
  readonly fees: { readonly maker: string; readonly taker: string };
  readonly log: Logger;
  /** MAX_GRID_INVESTMENT and MAX_TOTAL_INVESTMENT, in quote (decimal strings); unset: no cap. */
  readonly caps?: { readonly perGrid?: string | undefined; readonly total?: string | undefined };
}

/**
 * The grid operations every control surface calls (CLI, REST, chat, webhooks): one place for the rules, the
 * authorization and the audit trail. Returns typed results, never text.
 */
export class GridService {
  constructor(private readonly deps: GridServiceDeps) {}

  async list(actor: Actor): Promise<Result<GridSummary[], ServiceError>> {
    void actor; // reading needs no operator role
    return ok(await this.summaries(await this.deps.grids.list()));
  }

  async get(actor: Actor, ref: string): Promise<Result<GridSummary, ServiceError>> {
    void actor;
    const row = await this.resolve(ref);
    if (!row.ok) return row;
    return ok((await this.summaries([row.value]))[0]!);
  }

  /**
   * What a grid would be, without creating it: the lines, the spacing, the quantity per grid and the profit of one
   * cycle after fees (for the chat's /create confirmation). Needs a price for the symbol.
   */
  async preview(actor: Actor, input: unknown): Promise<Result<GridPreview, ServiceError>> {
    const checked = await this.validate(input);
    if (!checked.ok) return this.refuse(actor, 'preview', null, checked.error);
    const { g, params, plan } = checked.value;
    const capped = await this.capRefusal(g.symbol, g.investment, null);
    if (capped) return this.refuse(actor, 'preview', g.symbol, capped);
    if (!plan) {
      return err({
        kind: 'unavailable',
        message: `no price for ${g.symbol} yet; try again in a few seconds`,
      });
    }
    const q = new Dec(plan.qtyStep).times(plan.qtyLots);
    const lines = plan.lines.map((l) => priceDec(l));
    const fee = new Dec(params.makerFee);
    // One cycle of a cell: buy q at its lower line, sell q at its upper line, a maker fee on each side.
    const cycle = lines.slice(1).map((upper, i) => {
      const lower = lines[i]!;
      return upper.minus(lower).times(q).minus(lower.plus(upper).times(q).times(fee));
    });
    const first = lines[0]!;
    const spacing =
      g.mode === 'arithmetic'
        ? lines[1]!.minus(first).toFixed()
        : `${lines[1]!.div(first).minus(1).times(100).toDecimalPlaces(4).toFixed()} %`;
    return ok({
      symbol: g.symbol,
      mode: g.mode,
      lower: g.lower,
      upper: g.upper,
      grids: g.grids,
      investment: g.investment,
      price: priceText(plan.startPrice),
      spacing,
      qtyPerGrid: decText(q),
      profitPerGridMin: decText(Dec.min(...cycle).toDecimalPlaces(8, Dec.ROUND_DOWN)),
      profitPerGridMax: decText(Dec.max(...cycle).toDecimalPlaces(8, Dec.ROUND_DOWN)),
      buysBelow: plan.gapLine,
      baseToBuy: decText(q.times(g.grids - plan.gapLine)),
      stopLoss: g.stopLoss ?? null,
      takeProfit: g.takeProfit ?? null,
      trailingUp: g.trailingUp ?? false,
      trailingCap: g.trailingCap ?? null,
      trigger: g.trigger ?? null,
    });
  }

  /** The input parsed and checked against the instrument and, when there is a price, planned at it. */
  private async validate(
    input: unknown,
  ): Promise<
    Result<{ g: z.output<typeof CreateGridInput>; params: GridParams; plan: GridPlan | null }, ServiceError>
  > {
    const parsed = CreateGridInput.safeParse(input);
    if (!parsed.success) {
      const message = parsed.error.issues
        .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
        .join('; ');
      return err({ kind: 'invalid', message });
    }
    const g = parsed.data;
    const instrument = this.deps.instrument(g.symbol);
    if (!instrument) return err({ kind: 'invalid', message: `unknown symbol ${g.symbol}` });
    const params: GridParams = {
      lower: g.lower,
      upper: g.upper,
      grids: g.grids,
      mode: g.mode,
      investment: g.investment,
      makerFee: this.deps.fees.maker,
      takerFee: this.deps.fees.taker,
      instrument,
      stopLoss: g.stopLoss,
      takeProfit: g.takeProfit,
      ...(g.trailingUp ? { trailingUp: true } : {}),
      ...(g.trailingCap !== undefined ? { trailingCap: g.trailingCap } : {}),
      ...(g.trigger !== undefined ? { trigger: g.trigger } : {}),
    };
    // The engine's own checks (a cap without trailing up or not above upper, a trigger price of 0): one message each.
    const lines = planLines(params);
    if (!lines.ok) return err({ kind: 'invalid', message: lines.error.message });
    // A grid with a trigger is planned at its trigger price, whatever the price is now.
    const at = g.trigger ?? (await this.deps.prices.get(g.symbol))?.price;
    if (at === undefined) return ok({ g, params, plan: null });
    const plan = planGrid(params, toPriceUnits(at));
    if (!plan.ok) return err({ kind: 'invalid', message: plan.error.message });
    return ok({ g, params, plan: plan.value });
  }

  async create(
    actor: Actor,
    input: unknown,
    source: string = actor.via,
    demo = false,
  ): Promise<Result<GridSummary, ServiceError>> {
    const denied = await this.requireOperator(actor, 'create', null);
    if (denied) return denied;
    const checked = await this.validate(input);
    if (!checked.ok) {
      const target = (input as { symbol?: unknown } | null)?.symbol;
      return this.refuse(
        actor,
        'create',
        typeof target === 'string' ? target.toUpperCase() : null,
        checked.error,
      );
    }
    const { g, params } = checked.value;
    const cap = this.deps.maxOpenOrders;
    if (cap !== null) {
      // A grid keeps one order open per cell; refuse one that would take the account past the exchange's cap.
      const open = await this.deps.orders.openCount();
      if (open + g.grids > cap) {
        return this.refuse(actor, 'create', g.symbol, {
          kind: 'invalid',
          message: `this grid keeps ${g.grids} orders open; with the ${open} open now that makes ${open + g.grids}, above the exchange's limit of ${cap} open orders per account`,
        });
      }
    }
    const id = await this.deps.grids.nextId();
    const name = g.name ?? `${g.symbol}-${id}`;
    let capped: ServiceError | null;
    try {
      // The caps are checked and the grid inserted in one transaction under one lock: a concurrent create waits here,
      // then counts this grid.
      capped = await this.deps.transactions.run(async (tx) => {
        await this.deps.grids.lockCreation(tx);
        const refusal = await this.capRefusal(g.symbol, g.investment, null, tx);
        if (refusal) return refusal;
        await this.deps.grids.insert(
          {
            id,
            name,
            symbol: g.symbol,
            lower: g.lower,
            upper: g.upper,
            grids: g.grids,
            mode: g.mode,
            investment: g.investment,
            stopLoss: g.stopLoss ?? null,
            takeProfit: g.takeProfit ?? null,
            makerFee: params.makerFee,
            takerFee: params.takerFee,
            demo,
            source,
            state: createGridState(id, params),
          },
          tx,
        );
        return null;
      });
    } catch (e) {
      if (e instanceof GridNameTaken) {
        return this.refuse(actor, 'create', name, {
          kind: 'conflict',
          message: `a grid named ${name} exists already`,
        });
      }
      throw e;
    }
    if (capped) return this.refuse(actor, 'create', g.symbol, capped);
    await this.audit(actor, 'create', id, 'ok', {
      name,
      symbol: g.symbol,
      lower: g.lower,
      upper: g.upper,
      grids: g.grids,
      ...(g.trailingUp ? { trailingUp: true, trailingCap: g.trailingCap ?? null } : {}),
      ...(g.trigger !== undefined ? { trigger: g.trigger } : {}),
    });
    if (g.start) {
      const started = await this.start(actor, id);
      if (!started.ok) return started;
    }
    return this.get(actor, id);
  }

  async start(actor: Actor, ref: string): Promise<Result<GridSummary, ServiceError>> {
    const denied = await this.requireOperator(actor, 'start', ref);
    if (denied) return denied;
    if (await this.deps.isKilled()) return this.refuse(actor, 'start', ref, KILLED);
    const row = await this.resolve(ref);
    if (!row.ok) return this.refuse(actor, 'start', ref, row.error);
    if (row.value.status !== 'created') {
      return this.refuse(actor, 'start', row.value.id, {
        kind: 'conflict',
        message: `grid ${row.value.id} is ${row.value.status}; only a new grid starts (resume a paused one)`,
      });
    }
    // A grid created before a cap was set (or lowered) is held to it when it would begin to trade.
    const capped = await this.capRefusal(row.value.symbol, row.value.investment, row.value.id);
    if (capped) return this.refuse(actor, 'start', row.value.id, capped);
    const latest = await this.deps.prices.get(row.value.symbol);
    if (!latest) {
      return this.refuse(actor, 'start', row.value.id, {
        kind: 'unavailable',
        message: `no price for ${row.value.symbol} yet; try again in a few seconds`,
      });
    }
    const applied = await this.deps.processor.apply(row.value.id, {
      kind: 'start',
      price: toPriceUnits(latest.price),
    });
    const invalid = applied.notes.find((n) => n.kind === 'invalid');
    if (invalid && invalid.kind === 'invalid') {
      return this.refuse(actor, 'start', row.value.id, { kind: 'invalid', message: invalid.message });
    }
    await this.audit(actor, 'start', row.value.id, 'ok', { price: latest.price });
    return this.get(actor, row.value.id);
  }

  pause(actor: Actor, ref: string): Promise<Result<GridSummary, ServiceError>> {
    return this.lifecycle(actor, ref, 'pause');
  }

  resume(actor: Actor, ref: string): Promise<Result<GridSummary, ServiceError>> {
    return this.lifecycle(actor, ref, 'resume');
  }

  stop(actor: Actor, ref: string): Promise<Result<GridSummary, ServiceError>> {
    return this.lifecycle(actor, ref, 'stop');
  }

  private async lifecycle(
    actor: Actor,
    ref: string,
    action: LifecycleAction,
  ): Promise<Result<GridSummary, ServiceError>> {
    const denied = await this.requireOperator(actor, action, ref);
    if (denied) return denied;
    if (action === 'resume' && (await this.deps.isKilled())) return this.refuse(actor, action, ref, KILLED);
    const row = await this.resolve(ref);
    if (!row.ok) return this.refuse(actor, action, ref, row.error);
    if (!canApply(action, row.value.status)) {
      return this.refuse(actor, action, row.value.id, {
        kind: 'conflict',
        message: `grid ${row.value.id} is ${row.value.status}; cannot ${action} it`,
      });
    }
    if (action === 'resume') {
      const capped = await this.capRefusal(row.value.symbol, row.value.investment, row.value.id);
      if (capped) return this.refuse(actor, action, row.value.id, capped);
    }
    // Lifecycle commands are applied here, in the caller's order (a pause then a resume must not swap); the
    // commands they produce go to the exchange right after the commit, and the reconciler retries any that fail.
    const event: GridEvent = { kind: action };
    await this.deps.processor.apply(row.value.id, event);
    await this.audit(actor, action, row.value.id, 'ok', null);
    return this.get(actor, row.value.id);
  }

  /**
   * The investment caps: this grid's investment against MAX_GRID_INVESTMENT, and with every other grid not stopped
   * (created, running or paused: each may trade) in the same quote currency against MAX_TOTAL_INVESTMENT. Exact
   * decimals; the refusal names the figures. `self`: the grid itself when it exists already (start, resume); `tx`:
   * the creation's transaction, which holds the creation lock.
   */
  private async capRefusal(
    symbol: string,
    investment: string,
    self: string | null,
    tx?: Tx,
  ): Promise<ServiceError | null> {
    const { perGrid, total } = this.deps.caps ?? {};
    const quote = this.deps.instrument(symbol)?.quoteAsset ?? null;
    const unit = quote ? ` ${quote}` : '';
    const amount = new Dec(investment);
    if (perGrid !== undefined && amount.gt(perGrid)) {
      return {
        kind: 'invalid',
        message: `investment ${decText(amount)}${unit} is above MAX_GRID_INVESTMENT ${decText(perGrid)}`,
      };
    }
    if (total === undefined) return null;
    const others = await this.deps.grids.activeInvestments(self, tx);
    // Only grids in the same quote add up; one whose instrument is not known here is counted (the cap errs safe).
    const same = others.filter((o) => {
      const q = this.deps.instrument(o.symbol)?.quoteAsset;
      return q === undefined || q === quote;
    });
    const active = same.reduce((sum, o) => sum.plus(o.investment), new Dec(0));
    const after = active.plus(amount);
    if (after.lte(total)) return null;
    const grids = `${same.length} ${self ? 'other ' : ''}active grid${same.length === 1 ? '' : 's'}`;
    return {
      kind: 'conflict',
      message: `total investment would be ${decText(after)}${unit} (${decText(active)} in ${grids} + ${decText(amount)}), above MAX_TOTAL_INVESTMENT ${decText(total)}`,
    };
  }

  /** A grid by id (g12), by name, or by symbol when exactly one grid on it is not stopped. */
  private async resolve(ref: string): Promise<Result<GridRecord, ServiceError>> {
    const rows = await this.deps.grids.matching(ref);
    const exact = rows.find((r) => r.id === ref || r.name === ref);
    if (exact) return ok(exact);
    if (rows.length === 1) return ok(rows[0]!);
    if (rows.length > 1) {
      return err({
        kind: 'conflict',
        message: `${ref} has ${rows.length} active grids (${rows.map((r) => r.id).join(', ')}); name one by its id`,
      });
    }
    return err({ kind: 'not-found', message: `no grid ${ref}` });
  }

  private async summaries(rows: readonly GridRecord[]): Promise<GridSummary[]> {
    const prices = new Map((await this.deps.prices.all()).map((p) => [p.symbol, p.price]));
    return rows.map((r) => {
      const last = prices.get(r.symbol) ?? null;
      return {
        id: r.id,
        name: r.name,
        symbol: r.symbol,
        status: r.status,
        stopReason: r.stopReason,
        mode: r.mode,
        lower: decText(r.lower),
        upper: decText(r.upper),
        grids: r.grids,
        investment: decText(r.investment),
        stopLoss: r.stopLoss === null ? null : decText(r.stopLoss),
        takeProfit: r.takeProfit === null ? null : decText(r.takeProfit),
        demo: r.demo,
        openOrders: r.openOrders,
        baseQty: decText(r.baseQty),
        quoteBalance: decText(r.quoteBalance),
        realizedPnl: decText(r.realizedPnl),
        fees: decText(r.fees),
        unrealizedPnl: last === null ? null : decText(new Dec(r.baseQty).times(last).minus(r.baseCost)),
        lastPrice: last,
        createdAt: r.createdAt.toISOString(),
      };
    });
  }

  private async requireOperator(
    actor: Actor,
    action: string,
    target: string | null,
  ): Promise<{ ok: false; error: ServiceError } | null> {
    if (actor.role === 'operator') return null;
    return this.refuse(actor, action, target, { kind: 'forbidden', message: `${action} needs an operator` });
  }

  private async refuse(
    actor: Actor,
    action: string,
    target: string | null,
    error: ServiceError,
  ): Promise<{ ok: false; error: ServiceError }> {
    await this.audit(actor, action, target, `refused: ${error.kind}`, { message: error.message });
    return err(error);
  }

  async audit(
    actor: Actor,
    action: string,
    target: string | null,
    outcome: string,
    detail: unknown,
  ): Promise<void> {
    await this.deps.audit.record({ actor, action, target, outcome, detail });
  }
}

export const DEFAULT_FEES = { maker: DEFAULT_FEE, taker: DEFAULT_FEE };

const KILLED: ServiceError = {
  kind: 'conflict',
  message: 'the kill switch is on: read the incident, then reset it (npm run cli -- risk reset)',
};
