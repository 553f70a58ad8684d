import { z } from 'zod';
import type { GridState } from '../engine/grid/state.js';

/**
 * The shape of `grid.state` as stored. The engine's GridState is the truth; this schema must describe it exactly
 * (checked at compile time below), and every stored state is parsed with it on load rather than trusted by a cast.
 * A stored state carries `schemaVersion` beside the engine's fields; states written before versions existed have
 * none and are version 0.
 *
 * To change GridState's shape: bump GRID_STATE_VERSION, change the schema, and add to UPGRADES the step from the
 * previous version (a function of the stored JSON). Old states are upgraded on load and written back in the new
 * version on their grid's next commit.
 */
export const GRID_STATE_VERSION = 2;

/**
 * UPGRADES[v] turns a stored state of version v into version v + 1. 0 → 1 only adds the version: the shape of the
 * states stored before versions existed is version 1's (`sellingOff` absent in the oldest ones, as the type allows).
 * 1 → 2 brings trailing up and the trigger price: a grid stored before them neither trails nor waits (plan.trailing and
 * plan.trigger null, no trailing window), and each of its cells has the grid's one quantity q as its own.
 */
const UPGRADES: Readonly<Record<number, (state: Record<string, unknown>) => Record<string, unknown>>> = {
  0: (state) => state,
  1: (state) => {
    const plan = state.plan as Record<string, unknown> | null | undefined;
    const qtyLots = plan?.qtyLots;
    const cells = Array.isArray(state.cells)
      ? state.cells.map((cell: unknown) =>
          typeof cell === 'object' && cell !== null ? { ...cell, qtyLots } : cell,
        )
      : state.cells;
    return {
      ...state,
      plan: plan ? { ...plan, trigger: null, trailing: null } : plan,
      cells,
      trail: null,
    };
  },
};

const int = z.number().int();
const count = int.nonnegative();
/** Prices in price units (1e-8 quote) and quantities in lots: exact integers by the engine's rule. */
const units = count.max(Number.MAX_SAFE_INTEGER);
/** The ledger's exact sums, as the engine writes them (decText: no exponent, maybe negative). */
const decimal = z.string().regex(/^-?(?:0|[1-9]\d*)(?:\.\d+)?$/);

const OpenOrderSchema = z.object({
  clientOrderId: z.string().min(1),
  side: z.enum(['buy', 'sell']),
  price: units.nullable(),
  lots: units,
  filledLots: units,
  execIds: z.array(z.string()),
  cancelling: z.boolean(),
});

const CellSchema = z.object({
  holds: z.enum(['quote', 'base']),
  cycleLots: units,
  progressLots: units,
  base: z.array(z.object({ lots: units, entry: units })),
  seq: count,
  order: OpenOrderSchema.nullable(),
  awaitingStart: z.boolean(),
  rejected: z.string().nullable(),
  qtyLots: units,
});

const LeavingCellSchema = CellSchema.extend({ index: count, buyLine: units, sellLine: units });

const GridStateSchema = z.object({
  gridId: z.string().min(1),
  // Params and the plan's settings come from the user and the exchange's instrument: kept as they were given.
  params: z.object({
    lower: z.string(),
    upper: z.string(),
    grids: count,
    mode: z.enum(['arithmetic', 'geometric']),
    investment: z.string(),
    makerFee: z.string(),
    takerFee: z.string(),
    instrument: z.object({
      tickSize: z.string(),
      qtyStep: z.string(),
      minQty: z.string(),
      minValue: z.string(),
    }),
    stopLoss: z.string().optional(),
    takeProfit: z.string().optional(),
    trailingUp: z.boolean().optional(),
    trailingCap: z.string().optional(),
    trigger: z.string().optional(),
  }),
  status: z.enum(['created', 'waiting', 'running', 'paused', 'stopped']),
  stopReason: z.enum(['stop-loss', 'take-profit', 'manual', 'kill', 'rejected-start']).nullable(),
  plan: z
    .object({
      lines: z.array(units),
      tickUnits: units,
      stopLoss: units.nullable(),
      takeProfit: units.nullable(),
      grids: count,
      startPrice: units,
      qtyLots: units,
      qtyStep: z.string(),
      gapLine: count,
      investment: z.string(),
      makerFee: z.string(),
      takerFee: z.string(),
      trigger: units.nullable(),
      trailing: z
        .object({
          cap: units.nullable(),
          lower: z.string(),
          upper: z.string(),
          mode: z.enum(['arithmetic', 'geometric']),
          tick: z.string(),
          minQty: z.string(),
          minValue: z.string(),
        })
        .nullable(),
    })
    .nullable(),
  cells: z.array(CellSchema),
  startOrder: OpenOrderSchema.nullable(),
  exitOrder: OpenOrderSchema.nullable(),
  startAttempts: count,
  exitAttempts: count,
  sellingOff: z.boolean().exactOptional(),
  ledger: z.object({
    quote: decimal,
    baseLots: int,
    dust: decimal,
    dustCost: decimal,
    fees: decimal,
    gridProfit: decimal,
    buys: count,
    sells: count,
  }),
  lastPrice: units.nullable(),
  trail: z
    .object({
      offset: count,
      lines: z.array(units),
      next: units.nullable(),
      shifts: count,
      ended: z.boolean(),
      leaving: z.array(LeavingCellSchema),
    })
    .nullable(),
});

// The schema and the engine's type must not drift: a field added to one and not the other fails the build here.
type Writable<T> = T extends readonly (infer E)[]
  ? Writable<E>[]
  : T extends object
    ? { -readonly [K in keyof T]: Writable<T[K]> }
    : T;
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const schemaDescribesGridState: Same<Writable<GridState>, Writable<z.output<typeof GridStateSchema>>> = true;
void schemaDescribesGridState;

/** A stored state this build cannot use: a newer schema version, or a shape that is not a grid state. */
export class StoredGridStateError extends Error {
  override readonly name = 'StoredGridStateError';
}

/** The stored form of a state: the engine's fields and the schema version they are written in. */
export function storedGridState(state: GridState): string {
  return JSON.stringify({ schemaVersion: GRID_STATE_VERSION, ...state });
}

/** A stored state (the jsonb as pg returns it), upgraded to the current version and checked. */
export function parseGridState(gridId: string, stored: unknown): GridState {
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored))
    throw new StoredGridStateError(`grid ${gridId}: the stored state is not an object`);
  const { schemaVersion, ...fields } = stored as Record<string, unknown>;
  const version = schemaVersion ?? 0;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0)
    throw new StoredGridStateError(
      `grid ${gridId}: the stored state's schemaVersion is ${JSON.stringify(schemaVersion)}, not a version`,
    );
  if (version > GRID_STATE_VERSION)
    throw new StoredGridStateError(
      `grid ${gridId}: the stored state has schema version ${version}, newer than this build reads (${GRID_STATE_VERSION}); run the build that wrote it`,
    );
  let upgraded = fields;
  for (let v = version; v < GRID_STATE_VERSION; v++) upgraded = UPGRADES[v]!(upgraded);
  const parsed = GridStateSchema.safeParse(upgraded);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new StoredGridStateError(
      `grid ${gridId}: the stored state (schema version ${version}) does not parse: ${issues}`,
    );
  }
  return parsed.data;
}
