import { describe, expect, it } from 'vitest';
import type { GridEvent } from '../../../src/engine/grid/events.js';
import type { GridParams } from '../../../src/engine/grid/params.js';
import { createGridState } from '../../../src/engine/grid/state.js';
import { openOrders } from '../../../src/engine/grid/step.js';
import { gridFigures } from '../../../src/engine/grid/summary.js';
import { toPriceUnits } from '../../../src/engine/money.js';
import { handGrid, runSteps } from '../../support/grids.js';

/**
 * step() for trailing up and trigger prices. The hand grid: lines 100, 125, 150, 175, 200, and past U 225, 250, 275.
 * At P0 = 160: q = 1.56 (156 lots of 0.01), k = 2: buys g1-0-1 at 100 and g1-1-1 at 125, the start buy g1-s0 of 312.
 */
const px = (p: string) => toPriceUnits(p);

const run = runSteps;

const fill = (clientOrderId: string, execId: string, price: string, lots: number): GridEvent => ({
  kind: 'fill',
  clientOrderId,
  execId,
  price: px(price),
  lots,
});
const price = (p: string): GridEvent => ({ kind: 'price', price: px(p) });

/** Started at P0 (q lots a cell), the start buy filled, and both start cells sold at 175 and 200: all hold quote. */
function soldOutRun(extra: Partial<GridParams> = {}, p0 = '160', q = 156) {
  return run(
    createGridState('g1', handGrid({ trailingUp: true, ...extra })),
    { kind: 'start', price: px(p0) },
    fill('g1-s0', 'e0', p0, 2 * q),
    fill('g1-2-1', 'e1', '175', q),
    fill('g1-3-1', 'e2', '200', q),
  );
}
const soldOut = (extra: Partial<GridParams> = {}) => soldOutRun(extra).state;

const placed = (id: string, side: 'buy' | 'sell', at: string, lots: number) =>
  expect.objectContaining({ kind: 'place', clientOrderId: id, side, priceText: at, lots, purpose: 'grid' });

describe('trailing up in step()', () => {
  it('a shift cancels the lowest buy and places the new top cell buy, under a new cell index', () => {
    const s0 = soldOut();
    expect(s0.trail).toMatchObject({ offset: 0, next: px('225'), shifts: 0, ended: false });
    // Below line 5 = 225 nothing moves.
    expect(run(s0, price('224')).commands).toEqual([]);
    const shifted = run(s0, price('230'));
    expect(shifted.commands).toEqual([
      { kind: 'cancel', clientOrderId: 'g1-0-1' },
      // R = 1.56 x 100 = 156 buys floor(156 / 200) = 0.78 at 200: cell 4, its first order.
      placed('g1-4-1', 'buy', '200', 78),
    ]);
    expect(shifted.notes).toEqual([
      { kind: 'trailing-shift', left: 0, cell: 4, qty: '0.78', lower: '125', upper: '225', shifts: 1 },
    ]);
    const t = shifted.state.trail!;
    expect(t).toMatchObject({
      offset: 1,
      lines: [125, 150, 175, 200, 225].map(String).map(px),
      next: px('250'),
    });
    expect(shifted.state.cells.map((c) => c.qtyLots)).toEqual([156, 156, 156, 78]);
    // The cell that left waits for its cancel to be confirmed; nothing moved in the ledger.
    expect(t.leaving).toEqual([
      expect.objectContaining({ index: 0, buyLine: px('100'), sellLine: px('125') }),
    ]);
    expect(t.leaving[0]!.order).toMatchObject({ clientOrderId: 'g1-0-1', cancelling: true });
    expect(shifted.state.ledger).toEqual(s0.ledger);
    const confirmed = run(shifted.state, { kind: 'cancelled', clientOrderId: 'g1-0-1' });
    expect(confirmed.state.trail!.leaving).toEqual([]);
    expect(openOrders(confirmed.state).map((o) => o.clientOrderId)).toEqual([
      'g1-1-1',
      'g1-2-2',
      'g1-3-2',
      'g1-4-1',
    ]);
  });

  it('one price past several lines shifts once per line, in order; ids never repeat', () => {
    const s0 = soldOut();
    const out = run(s0, price('290'));
    expect(out.commands).toEqual([
      { kind: 'cancel', clientOrderId: 'g1-0-1' },
      placed('g1-4-1', 'buy', '200', 78),
      { kind: 'cancel', clientOrderId: 'g1-1-1' },
      placed('g1-5-1', 'buy', '225', 86), // floor(1.56 x 125 / 225 = 0.866..)
      { kind: 'cancel', clientOrderId: 'g1-2-2' },
      placed('g1-6-1', 'buy', '250', 93), // floor(1.56 x 150 / 250 = 0.936)
    ]);
    expect(out.notes.map((n) => n.kind === 'trailing-shift' && [n.left, n.cell, n.upper])).toEqual([
      [0, 4, '225'],
      [1, 5, '250'],
      [2, 6, '275'],
    ]);
    expect(out.state.trail).toMatchObject({ offset: 3, shifts: 3, next: px('300') });
    // The new cells trade their own quantity, under ids no earlier order had.
    const cycled = run(out.state, fill('g1-6-1', 'e3', '250', 93), fill('g1-6-2', 'e4', '275', 93));
    expect(cycled.commands).toEqual([
      placed('g1-6-2', 'sell', '275', 93),
      placed('g1-6-3', 'buy', '250', 93),
    ]);
    expect(cycled.notes).toContainEqual({ kind: 'cycle-complete', cell: 6, profit: '23.25' });
    const ids = [...soldOutRun().commands, ...out.commands, ...cycled.commands].flatMap((c) =>
      c.kind === 'place' ? [c.clientOrderId] : [],
    );
    expect(ids).toHaveLength(12);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('no shift while the lowest cell does not hold quote, while paused, or for a grid that does not trail', () => {
    // Cell 0 bought at 100 (it holds base): the price at 230 does not move the grid.
    const holding = run(soldOut(), fill('g1-0-1', 'e3', '100', 156)).state;
    expect(run(holding, price('230')).commands).toEqual([]);
    const paused = run(soldOut(), { kind: 'pause' }).state;
    expect(run(paused, price('230')).state.trail!.shifts).toBe(0);
    const plain = run(
      createGridState('g1', handGrid()),
      { kind: 'start', price: px('160') },
      fill('g1-s0', 'e0', '160', 312),
      fill('g1-2-1', 'e1', '175', 156),
      fill('g1-3-1', 'e2', '200', 156),
    ).state;
    expect(plain.trail).toBeNull();
    expect(run(plain, price('300')).commands).toEqual([]);
  });

  it('the cap ends trailing for good, said once', () => {
    const s0 = soldOut({ trailingCap: '240' });
    const out = run(s0, price('290'));
    // Top line 225 is under the cap; 250 would be above it.
    expect(out.commands).toHaveLength(2);
    expect(out.notes).toEqual([
      expect.objectContaining({ kind: 'trailing-shift', upper: '225' }),
      {
        kind: 'trailing-ended',
        reason: 'cap',
        message: 'trailing up ended: the next top line 250 would be above the cap 240',
      },
    ]);
    expect(out.state.trail).toMatchObject({ ended: true, shifts: 1 });
    const later = run(out.state, price('200'), price('300'));
    expect(later.commands).toEqual([]);
    expect(later.notes).toEqual([]);
  });

  it('the minimum quantity and the minimum order value end trailing', () => {
    const minQty = run(soldOut({ instrument: { ...handGrid().instrument, minQty: '0.8' } }), price('230'));
    expect(minQty.commands).toEqual([]);
    expect(minQty.notes).toEqual([
      {
        kind: 'trailing-ended',
        reason: 'min-qty',
        message: 'trailing up ended: a new cell at 200 would buy 0.78, below the minimum quantity 0.8',
      },
    ]);
    // At P0 = 161: q = 1000 / 4 / 161 → 1.55; its order at the lowest line, 1.55 x 100 = 155, meets a minimum of 155.
    // The shift's q' = floor(155 / 200 = 0.775) = 0.77 buys 0.77 x 200 = 154: below it.
    const instrument = { ...handGrid().instrument, minValue: '155' };
    const minValue = run(soldOutRun({ instrument }, '161', 155).state, price('230'));
    expect(minValue.notes).toEqual([
      {
        kind: 'trailing-ended',
        reason: 'min-value',
        message:
          "trailing up ended: a new cell's order 0.77 x 200 = 154 is below the minimum order value 155",
      },
    ]);
  });

  it('a fill that raced the cancel of a leaving cell is kept: the cell sells it one line up, then leaves', () => {
    const shifted = run(soldOut(), price('230')).state;
    const before = gridFigures(shifted);
    // The exchange filled the buy at 100 before the cancel arrived.
    const raced = run(shifted, fill('g1-0-1', 'e3', '100', 156));
    expect(raced.commands).toEqual([placed('g1-0-2', 'sell', '125', 156)]);
    expect(raced.state.ledger.baseLots).toBe(156);
    expect(gridFigures(raced.state)).toMatchObject({ baseQty: '1.56', baseCost: '156' });
    expect(gridFigures(raced.state).openOrders).toBe(before.openOrders + 1);
    // Its cancel comes back for an order that is no longer open; the sell fills and the cell is gone.
    expect(run(raced.state, { kind: 'cancelled', clientOrderId: 'g1-0-1' }).notes).toEqual([
      { kind: 'unknown-order', clientOrderId: 'g1-0-1' },
    ]);
    const sold = run(raced.state, fill('g1-0-2', 'e4', '125', 156));
    expect(sold.commands).toEqual([]);
    expect(sold.notes).toContainEqual({ kind: 'cycle-complete', cell: 0, profit: '39' });
    expect(sold.state.trail!.leaving).toEqual([]);
    expect(sold.state.ledger.baseLots).toBe(0);
  });

  it('a stop sells what leaving cells hold too, and pause cancels their orders', () => {
    const raced = run(soldOut({ stopLoss: '90' }), price('230'), fill('g1-0-1', 'e3', '100', 156)).state;
    const paused = run(raced, { kind: 'pause' });
    expect(paused.commands).toContainEqual({ kind: 'cancel', clientOrderId: 'g1-0-2' });
    const resumed = run(paused.state, { kind: 'cancelled', clientOrderId: 'g1-0-2' }, { kind: 'resume' });
    expect(resumed.commands).toContainEqual(placed('g1-0-3', 'sell', '125', 156));
    const stopped = run(resumed.state, price('90'));
    expect(stopped.commands).toContainEqual(
      expect.objectContaining({ clientOrderId: 'g1-x0', side: 'sell', type: 'market', lots: 156 }),
    );
    const exited = run(stopped.state, fill('g1-x0', 'e9', '90', 156), {
      kind: 'cancelled',
      clientOrderId: 'g1-0-3',
    });
    expect(exited.state.ledger.baseLots).toBe(0);
    expect(exited.state.trail!.leaving).toEqual([]);
  });
});

describe('trigger prices in step()', () => {
  const waiting = (at: string) =>
    run(createGridState('g1', handGrid({ trigger: '150' })), { kind: 'start', price: px(at) });

  it('waits, planned at T0, with nothing placed; starts when a price reaches T0', () => {
    const w = waiting('180');
    expect(w.state.status).toBe('waiting');
    expect(w.commands).toEqual([]);
    expect(w.notes).toEqual([{ kind: 'waiting', trigger: '150' }]);
    // Planned at 150: q = 1000 / 4 / 150 → 1.66, k = 2.
    expect(w.state.plan).toMatchObject({ startPrice: px('150'), qtyLots: 166, gapLine: 2 });
    expect(gridFigures(w.state)).toMatchObject({ quoteBalance: '1000', baseQty: '0', openOrders: 0 });
    const still = run(w.state, price('160'), price('151'));
    expect(still.state.status).toBe('waiting');
    expect(still.commands).toEqual([]);
    const started = run(still.state, price('150'));
    expect(started.state.status).toBe('running');
    expect(started.notes.map((n) => n.kind)).toEqual(['triggered', 'started']);
    expect(started.commands).toEqual([
      expect.objectContaining({ clientOrderId: 'g1-s0', type: 'market', lots: 332 }),
      placed('g1-0-1', 'buy', '100', 166),
      placed('g1-1-1', 'buy', '125', 166),
    ]);
  });

  it('a price that jumps over T0, from either side, reaches it', () => {
    const fromAbove = run(waiting('180').state, price('170'), price('140'));
    expect(fromAbove.state.status).toBe('running');
    expect(fromAbove.state.lastPrice).toBe(px('140'));
    expect(fromAbove.state.plan!.startPrice).toBe(px('150'));
    const fromBelow = run(waiting('120').state, price('149'), price('155'));
    expect(fromBelow.state.status).toBe('running');
  });

  it('a first price equal to T0 starts at once', () => {
    const at = waiting('150');
    expect(at.state.status).toBe('running');
    expect(at.notes.map((n) => n.kind)).toEqual(['triggered', 'started']);
  });

  it('pause and stop apply to a waiting grid; a paused one does not watch its trigger until resumed', () => {
    const paused = run(waiting('180').state, { kind: 'pause' });
    expect(paused.state.status).toBe('paused');
    expect(paused.commands).toEqual([]);
    expect(run(paused.state, price('140')).state.status).toBe('paused');
    // Not started, it holds nothing for a stop-loss to sell: a price below it does not stop it.
    const guarded = run(
      createGridState('g1', handGrid({ trigger: '150', stopLoss: '120' })),
      { kind: 'start', price: px('180') },
      { kind: 'pause' },
      price('110'),
    );
    expect(guarded.state.status).toBe('paused');
    const resumed = run(paused.state, price('140'), { kind: 'resume' });
    expect(resumed.state.status).toBe('waiting');
    expect(resumed.commands).toEqual([]);
    expect(run(resumed.state, price('150')).state.status).toBe('running');
    const stopped = run(waiting('180').state, { kind: 'stop' });
    expect(stopped.state).toMatchObject({ status: 'stopped', stopReason: 'manual' });
    expect(stopped.commands).toEqual([]);
  });

  it('a grid that cannot trade at T0 is refused at its start, whatever the first price', () => {
    const refused = run(createGridState('g1', handGrid({ trigger: '150', stopLoss: '155' })), {
      kind: 'start',
      price: px('180'),
    });
    expect(refused.state).toMatchObject({ status: 'stopped', stopReason: 'rejected-start' });
    expect(refused.notes).toEqual([
      { kind: 'invalid', message: 'stop-loss 155 must be below the trigger price 150' },
    ]);
  });
});
