import type { GridCommand, GridEvent, GridNote } from '../../src/engine/grid/events.js';
import type { GridParams } from '../../src/engine/grid/params.js';
import type { GridState } from '../../src/engine/grid/state.js';
import { step } from '../../src/engine/grid/step.js';

/**
 * The small grid the engine tests work by hand: lines 100, 125, 150, 175, 200 (L = 100, U = 200, N = 4), investment
 * 1000, fees 0.1 %, tick 1 and quantity step 0.01. At P0 = 160: q = 1.56, k = 2.
 */
export function handGrid(extra: Partial<GridParams> = {}): GridParams {
  return {
    lower: '100',
    upper: '200',
    grids: 4,
    mode: 'arithmetic',
    investment: '1000',
    makerFee: '0.001',
    takerFee: '0.001',
    instrument: { tickSize: '1', qtyStep: '0.01', minQty: '0.01', minValue: '1' },
    ...extra,
  };
}

/** Applies events in order, as the processor would: the final state, and every command and note they produced. */
export function runSteps(
  state: GridState,
  ...events: GridEvent[]
): { state: GridState; commands: GridCommand[]; notes: GridNote[] } {
  const commands: GridCommand[] = [];
  const notes: GridNote[] = [];
  let s = state;
  for (const e of events) {
    const out = step(s, e);
    s = out.state;
    commands.push(...out.commands);
    notes.push(...out.notes);
  }
  return { state: s, commands, notes };
}
