import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRID_STATE_VERSION, StoredGridStateError } from '../../src/db/grid-state-schema.js';
import { PgGridStore } from '../../src/db/grid-store.js';
import { createGridState, type GridState } from '../../src/engine/grid/state.js';
import { step } from '../../src/engine/grid/step.js';
import { toPriceUnits } from '../../src/engine/money.js';
import { handGrid } from '../support/grids.js';
import { migratedDatabase, type TestDatabase } from '../support/services.js';

/**
 * Stored grid states are versioned and parsed on load, on the real Postgres: the states stored before versions
 * existed, and those of version 1 (before trailing up and trigger prices), load upgraded to the current version and
 * are written back in it by their next commit; a state from a newer build, or one that is not a grid state, stops its
 * grid with an error that names it instead of being trusted by a cast.
 */
describe('stored grid states', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let store: PgGridStore;
  const params = handGrid();

  beforeAll(async () => {
    ({ db, ds } = await migratedDatabase());
    store = new PgGridStore(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  async function newGrid(): Promise<string> {
    const id = await store.nextId();
    await store.insert({
      id,
      name: `state-${id}`,
      symbol: 'SOLUSDT',
      lower: params.lower,
      upper: params.upper,
      grids: params.grids,
      mode: params.mode,
      investment: params.investment,
      stopLoss: null,
      takeProfit: null,
      makerFee: params.makerFee,
      takerFee: params.takerFee,
      demo: false,
      source: 'cli',
      state: createGridState(id, params),
    });
    return id;
  }
  const stored = async (id: string) =>
    (
      (await ds.query(`SELECT state, version FROM grid WHERE id = $1`, [id])) as [
        { state: Record<string, unknown>; version: number },
      ]
    )[0];
  /** The row as every build before schema versions wrote it: JSON.stringify of the engine's state, nothing else. */
  const writeOldFormat = (id: string, state: object) =>
    ds.query(`UPDATE grid SET state = $2 WHERE id = $1`, [id, JSON.stringify(state)]);
  /** A state in the shape of version 1: no trailing window, no trigger or trailing plan, no quantity per cell. */
  const version1 = (state: GridState): Record<string, unknown> => {
    const { trail: _trail, ...rest } = state;
    const plan = state.plan && (({ trigger: _t, trailing: _tr, ...p }) => p)(state.plan);
    return { ...rest, plan, cells: state.cells.map(({ qtyLots: _q, ...cell }) => cell) };
  };

  it('writes new states in the current schema version', async () => {
    const id = await newGrid();
    expect((await stored(id)).state).toMatchObject({ schemaVersion: GRID_STATE_VERSION, gridId: id });
    const loaded = await store.load(id, null);
    expect(loaded?.state).toEqual(createGridState(id, params));
    expect(loaded?.state).not.toHaveProperty('schemaVersion');
  });

  it('loads a state stored without a version, upgraded, and writes it back in the current version on the next commit', async () => {
    const id = await newGrid();
    // A running grid, with cells, orders and a ledger, as an older build left it.
    const running = step(createGridState(id, params), { kind: 'start', price: toPriceUnits('160') }).state;
    await writeOldFormat(id, version1(running));
    expect((await stored(id)).state).not.toHaveProperty('schemaVersion');
    const loaded = await store.load(id, null);
    expect(loaded?.state).toEqual(running);
    // Loading writes nothing; the grid's next commit does.
    expect((await stored(id)).state).not.toHaveProperty('schemaVersion');
    const next = step(loaded!.state, { kind: 'price', price: toPriceUnits('161') });
    expect(await store.commitStep(loaded!, next.state, next.commands, null)).toBe('committed');
    const after = await stored(id);
    expect(after.state.schemaVersion).toBe(GRID_STATE_VERSION);
    expect(after.version).toBe(loaded!.version + 1);
    expect((await store.load(id, null))?.state).toEqual(next.state);
  });

  it('upgrades a version 1 state: it neither trails nor waits, and each cell trades the grid quantity', async () => {
    expect(GRID_STATE_VERSION).toBe(2);
    const id = await newGrid();
    const running = step(createGridState(id, params), { kind: 'start', price: toPriceUnits('160') }).state;
    await writeOldFormat(id, { schemaVersion: 1, ...version1(running) });
    const loaded = (await store.load(id, null))!.state;
    expect(loaded).toEqual(running);
    expect(loaded.trail).toBeNull();
    expect(loaded.plan).toMatchObject({ trigger: null, trailing: null });
    expect(loaded.cells.map((c) => c.qtyLots)).toEqual([156, 156, 156, 156]);
    // A grid not yet started (no plan, no cells) upgrades as well.
    const created = createGridState(id, params);
    await writeOldFormat(id, { schemaVersion: 1, ...version1(created) });
    expect((await store.load(id, null))!.state).toEqual(created);
  });

  it('keeps a trailing grid as it is: its window, shifts, and a cell leaving with its cancel unconfirmed', async () => {
    const id = await newGrid();
    const loaded = (await store.load(id, null))!;
    const events = [
      { kind: 'start', price: toPriceUnits('160') },
      { kind: 'fill', clientOrderId: `${id}-s0`, execId: 'e0', price: toPriceUnits('160'), lots: 312 },
      { kind: 'fill', clientOrderId: `${id}-2-1`, execId: 'e1', price: toPriceUnits('175'), lots: 156 },
      { kind: 'fill', clientOrderId: `${id}-3-1`, execId: 'e2', price: toPriceUnits('200'), lots: 156 },
      { kind: 'price', price: toPriceUnits('230') },
    ] as const;
    let state: GridState = { ...loaded.state, params: { ...params, trailingUp: true, trailingCap: '400' } };
    for (const e of events) state = step(state, e).state;
    expect(state.trail).toMatchObject({
      offset: 1,
      shifts: 1,
      leaving: [expect.objectContaining({ index: 0 })],
    });
    expect(await store.commitStep(loaded, state, [], null)).toBe('committed');
    expect((await stored(id)).state.schemaVersion).toBe(GRID_STATE_VERSION);
    expect((await store.load(id, null))?.state).toEqual(state);
  });

  it('refuses a state from a newer build, naming the grid', async () => {
    const id = await newGrid();
    await ds.query(
      `UPDATE grid SET state = jsonb_set(state::jsonb, '{schemaVersion}', $2::jsonb)::json WHERE id = $1`,
      [id, String(GRID_STATE_VERSION + 1)],
    );
    const loading = store.load(id, null);
    await expect(loading).rejects.toBeInstanceOf(StoredGridStateError);
    await expect(store.load(id, null)).rejects.toThrow(
      new RegExp(`^grid ${id}: the stored state has schema version ${GRID_STATE_VERSION + 1}, newer`),
    );
  });

  it('refuses a corrupt state, naming the grid and what is wrong', async () => {
    const id = await newGrid();
    const running = step(createGridState(id, params), { kind: 'start', price: toPriceUnits('160') }).state;
    const corrupt = {
      ...running,
      cells: running.cells.map((c, i) => (i === 1 ? { ...c, holds: 'gold' } : c)),
      ledger: { ...running.ledger, fees: 0.5 },
    };
    await ds.query(`UPDATE grid SET state = $2 WHERE id = $1`, [id, JSON.stringify(corrupt)]);
    const error = await store.load(id, null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoredGridStateError);
    expect((error as Error).message).toMatch(
      new RegExp(`^grid ${id}: the stored state \\(schema version 0\\)`),
    );
    expect((error as Error).message).toContain('cells.1.holds');
    expect((error as Error).message).toContain('ledger.fees');
    // Not a grid state at all.
    await ds.query(`UPDATE grid SET state = '[]' WHERE id = $1`, [id]);
    await expect(store.load(id, null)).rejects.toThrow(`grid ${id}: the stored state is not an object`);
  });
});
