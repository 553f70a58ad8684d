import { describe, expect, it } from 'vitest';
import type { GridEvent } from '../../../src/engine/grid/events.js';
import type { GridParams } from '../../../src/engine/grid/params.js';
import { createGridState, type GridState } from '../../../src/engine/grid/state.js';
import { openOrders, step } from '../../../src/engine/grid/step.js';
import { gridFigures } from '../../../src/engine/grid/summary.js';
import { toPriceUnits } from '../../../src/engine/money.js';
import { handGrid, runSteps } from '../../support/grids.js';

// Lines 100, 125, 150, 175, 200; at P0 = 160: q = 1.56 (156 lots of 0.01), k = 2.
const params: GridParams = handGrid({ stopLoss: '90' });
const px = (p: string) => toPriceUnits(p);

const run = runSteps;

const started = () => run(createGridState('g1', params), { kind: 'start', price: px('160') });
const fill = (clientOrderId: string, execId: string, price: string, lots: number): GridEvent => ({
  kind: 'fill',
  clientOrderId,
  execId,
  price: px(price),
  lots,
});

describe('grid engine step()', () => {
  it('starts with buys below the gap line and one market buy for the base above it', () => {
    const { state, commands } = started();
    expect(state.status).toBe('running');
    expect(commands).toEqual([
      expect.objectContaining({
        clientOrderId: 'g1-s0',
        side: 'buy',
        type: 'market',
        lots: 312,
        qtyText: '3.12',
      }),
      expect.objectContaining({
        clientOrderId: 'g1-0-1',
        side: 'buy',
        priceText: '100',
        lots: 156,
        qtyText: '1.56',
      }),
      expect.objectContaining({ clientOrderId: 'g1-1-1', side: 'buy', priceText: '125', lots: 156 }),
    ]);
  });

  it('hands the start buy to the waiting cells as it fills, placing each sell once its cell is whole', () => {
    const s0 = started().state;
    const part = run(s0, fill('g1-s0', 'e1', '160', 200));
    // Cell 2 got its 156 lots and sells at 175; cell 3 has 44 of 156 and waits.
    expect(part.commands).toEqual([
      expect.objectContaining({ clientOrderId: 'g1-2-1', side: 'sell', priceText: '175' }),
    ]);
    const rest = run(part.state, fill('g1-s0', 'e2', '160.5', 112));
    expect(rest.commands).toEqual([
      expect.objectContaining({ clientOrderId: 'g1-3-1', side: 'sell', priceText: '200' }),
    ]);
    expect(rest.state.startOrder).toBeNull();
    expect(rest.state.cells[3]!.base).toEqual([
      { lots: 44, entry: px('160') },
      { lots: 112, entry: px('160.5') },
    ]);
    // Quote: 1000 - (2 x 160 + 1.12 x 160.5 = 499.76) - taker fee 0.49976.
    expect(rest.state.ledger.quote).toBe('499.74024');
    expect(rest.state.ledger.fees).toBe('0.49976');
    expect(rest.state.ledger.baseLots).toBe(312);
  });

  it('a partial fill leaves the right remaining order and position; the rest completes the cycle', () => {
    const s0 = run(started().state, fill('g1-s0', 'e0', '160', 312)).state;
    const part = run(s0, fill('g1-1-1', 'e1', '125', 56));
    const cell = part.state.cells[1]!;
    expect(part.commands).toEqual([]);
    expect(cell.order).toMatchObject({ clientOrderId: 'g1-1-1', lots: 156, filledLots: 56 });
    expect(cell.holds).toBe('quote');
    expect(cell.progressLots).toBe(56);
    expect(part.state.ledger.baseLots).toBe(312 + 56);
    const done = run(part.state, fill('g1-1-1', 'e2', '125', 100));
    expect(done.commands).toEqual([
      expect.objectContaining({ clientOrderId: 'g1-1-2', side: 'sell', priceText: '150', lots: 156 }),
    ]);
    expect(done.state.ledger.buys).toBe(1);
  });

  it('applying a fill twice changes nothing, and neither does any other repeated event', () => {
    const events: GridEvent[] = [
      { kind: 'start', price: px('160') },
      fill('g1-s0', 'e0', '160', 312),
      fill('g1-1-1', 'e1', '125', 56),
      { kind: 'pause' },
      { kind: 'cancelled', clientOrderId: 'g1-1-1' },
      { kind: 'resume' },
      fill('g1-1-2', 'e2', '125', 100),
      fill('g1-1-3', 'e3', '150', 156),
      { kind: 'price', price: px('90') },
      fill('g1-x0', 'e4', '90', 312),
      { kind: 'stop' },
    ];
    let s = createGridState('g1', params);
    for (const e of events) {
      const once = step(s, e);
      const twice = step(once.state, e);
      expect(twice.commands, `${e.kind} replayed`).toEqual([]);
      // The very same object: the caller writes nothing and announces nothing for a repeat.
      expect(twice.state, `${e.kind} replayed`).toBe(once.state);
      s = once.state;
    }
    expect(s.status).toBe('stopped');
    expect(s.stopReason).toBe('stop-loss');
    expect(s.ledger.baseLots).toBe(0);
  });

  it('pause cancels, resume re-places what is missing with new ids for the remaining quantity', () => {
    const s0 = run(started().state, fill('g1-s0', 'e0', '160', 312), fill('g1-1-1', 'e1', '125', 56)).state;
    const paused = run(s0, { kind: 'pause' });
    expect(paused.commands.map((c) => c.kind === 'cancel' && c.clientOrderId)).toEqual([
      'g1-0-1',
      'g1-1-1',
      'g1-2-1',
      'g1-3-1',
    ]);
    // A fill that raced the cancel is still applied, but no counter order goes out while paused.
    const raced = run(paused.state, fill('g1-2-1', 'e2', '175', 156));
    expect(raced.commands).toEqual([]);
    expect(raced.state.ledger.sells).toBe(1);
    // Resume before all cancels are confirmed: only cells whose old order is gone get a new one now.
    const confirmed = run(raced.state, { kind: 'cancelled', clientOrderId: 'g1-1-1' });
    const resumed = run(confirmed.state, { kind: 'resume' });
    expect(resumed.commands).toEqual([
      expect.objectContaining({ clientOrderId: 'g1-1-2', side: 'buy', priceText: '125', lots: 100 }),
      expect.objectContaining({ clientOrderId: 'g1-2-2', side: 'buy', priceText: '150', lots: 156 }),
    ]);
    // The cancels of cells 0 and 3 confirm later: their replacements go out then.
    const later = run(resumed.state, { kind: 'cancelled', clientOrderId: 'g1-0-1' });
    expect(later.commands).toEqual([expect.objectContaining({ clientOrderId: 'g1-0-2', priceText: '100' })]);
  });

  it('a refused order is recorded and not retried until the grid is resumed', () => {
    const s0 = run(started().state, fill('g1-s0', 'e0', '160', 312)).state;
    const refused = step(s0, { kind: 'rejected', clientOrderId: 'g1-0-1', reason: 'insufficient-balance' });
    expect(refused.commands).toEqual([]);
    expect(refused.notes).toContainEqual({
      kind: 'order-rejected',
      clientOrderId: 'g1-0-1',
      reason: 'insufficient-balance',
    });
    expect(refused.state.cells[0]).toMatchObject({ order: null, rejected: 'insufficient-balance' });
    const again = run(refused.state, { kind: 'pause' }, { kind: 'resume' });
    expect(again.commands.filter((c) => c.kind === 'place').map((c) => c.clientOrderId)).toContain('g1-0-2');
  });

  it('the stop-loss cancels everything and sells all base at market, realizing against each entry', () => {
    const s0 = run(started().state, fill('g1-s0', 'e0', '160', 312), fill('g1-1-1', 'e1', '125', 156)).state;
    const hit = run(s0, { kind: 'price', price: px('89') });
    expect(hit.state.status).toBe('stopped');
    expect(hit.commands.filter((c) => c.kind === 'cancel')).toHaveLength(4);
    expect(hit.commands.at(-1)).toMatchObject({
      clientOrderId: 'g1-x0',
      side: 'sell',
      type: 'market',
      lots: 468,
    });
    const sold = run(hit.state, fill('g1-x0', 'e2', '89', 468));
    // 1.56 x (89 - 125) + 3.12 x (89 - 160) = -56.16 - 221.52
    expect(sold.state.ledger.gridProfit).toBe('-277.68');
    expect(sold.state.ledger.baseLots).toBe(0);
    expect(openOrders(sold.state).filter((o) => !o.cancelling)).toEqual([]);
  });

  it('a kill stops without selling; sell-base then sells what the grid holds, and base arriving late too', () => {
    const s0 = run(started().state, fill('g1-s0', 'e0', '160', 312), fill('g1-1-1', 'e1', '125', 156)).state;
    const killed = run(s0, { kind: 'stop', by: 'kill' });
    expect(killed.state.stopReason).toBe('kill');
    expect(killed.commands.every((c) => c.kind === 'cancel')).toBe(true);
    expect(run(s0, { kind: 'sell-base' }).commands).toEqual([]); // a running grid does not sell off
    const selling = run(killed.state, { kind: 'sell-base' });
    expect(selling.commands).toEqual([
      expect.objectContaining({
        clientOrderId: 'g1-x0',
        side: 'sell',
        type: 'market',
        lots: 468,
        purpose: 'exit',
      }),
    ]);
    expect(run(selling.state, { kind: 'sell-base' }).commands).toEqual([]); // one exit at a time
    const sold = run(selling.state, fill('g1-x0', 'e2', '150', 468));
    // 1.56 x (150 - 125) + 3.12 x (150 - 160) = 39 - 31.2
    expect(sold.state.ledger.gridProfit).toBe('7.8');
    expect(sold.state.ledger.baseLots).toBe(0);
    // The cell-0 buy at 100 raced the cancel and filled: its base is sold as well.
    const late = run(sold.state, fill('g1-0-1', 'e3', '100', 156));
    expect(late.commands).toEqual([
      expect.objectContaining({ clientOrderId: 'g1-x1', type: 'market', lots: 156 }),
    ]);
  });

  it('uses the fee the exchange reports when there is one', () => {
    const s0 = run(started().state, fill('g1-s0', 'e0', '160', 312)).state;
    const out = step(s0, { ...fill('g1-1-1', 'e1', '125', 156), fee: '0.05' } as GridEvent);
    // 0.4992 (start buy, computed at the taker rate) + 0.05 (reported), not + 0.195 (the maker rate).
    expect(out.state.ledger.fees).toBe('0.5492');
  });

  it('ignores a fill larger than the order and a fill for an order it does not know', () => {
    const s0 = run(started().state, fill('g1-s0', 'e0', '160', 312)).state;
    const over = step(s0, fill('g1-0-1', 'e1', '100', 157));
    expect(over.state).toBe(s0);
    expect(over.notes).toEqual([{ kind: 'overfill', clientOrderId: 'g1-0-1', execId: 'e1' }]);
    const unknown = step(s0, fill('other-1-1', 'e2', '100', 1));
    expect(unknown.state).toBe(s0);
    expect(unknown.notes).toEqual([{ kind: 'unknown-order', clientOrderId: 'other-1-1' }]);
  });

  // Protects the processor's "nothing changed" check (no commit, no version bump, no message): an ignored event or one
  // that changes nothing returns the state it was given, and an event that changes anything returns a new one.
  it('returns the same state object for an event it ignores or that changes nothing', () => {
    const created = createGridState('g1', params);
    const running = run(started().state, fill('g1-s0', 'e0', '160', 312)).state;
    const paused = run(running, { kind: 'pause' }).state;
    const killed = run(running, { kind: 'stop', by: 'kill' }).state;
    const sellingOff = run(killed, { kind: 'sell-base' }).state;
    const unchanged: [string, GridState, GridEvent][] = [
      ['start a running grid', running, { kind: 'start', price: px('160') }],
      ['pause a paused grid', paused, { kind: 'pause' }],
      ['pause a created grid', created, { kind: 'pause' }],
      ['resume a running grid', running, { kind: 'resume' }],
      ['stop a stopped grid', killed, { kind: 'stop' }],
      ['sell off a running grid', running, { kind: 'sell-base' }],
      ['sell off a grid selling off, its exit out', sellingOff, { kind: 'sell-base' }],
      ['the last price again', running, { kind: 'price', price: running.lastPrice! }],
      ['cancel an order it does not have', running, { kind: 'cancelled', clientOrderId: 'g1-9-9' }],
      [
        'refuse an order it does not have',
        running,
        { kind: 'rejected', clientOrderId: 'g1-9-9', reason: 'x' },
      ],
    ];
    for (const [what, state, event] of unchanged) {
      const out = step(state, event);
      expect(out.state, what).toBe(state);
      expect(out.commands, what).toEqual([]);
    }
    for (const [what, state, event] of [
      ['a new price', running, { kind: 'price', price: px('161') }],
      ['a pause', running, { kind: 'pause' }],
      ['a resume', paused, { kind: 'resume' }],
    ] as [string, GridState, GridEvent][]) {
      expect(step(state, event).state, what).not.toBe(state);
    }
  });

  it('refuses to start a grid whose quantity per grid is below the minimum, naming the figures', () => {
    const tiny = step(createGridState('g2', { ...params, investment: '1' }), {
      kind: 'start',
      price: px('160'),
    });
    expect(tiny.commands).toEqual([]);
    expect(tiny.state.status).toBe('stopped');
    expect(tiny.notes[0]).toMatchObject({ kind: 'invalid' });
    expect(JSON.stringify(tiny.notes[0])).toMatch(/quantity per grid 0 .*below the minimum quantity 0.01/);
  });
});

describe('fees taken in the base coin (Bybit spot buys)', () => {
  it('gives the cells the whole lots received, keeps the fraction as dust, and values the fee in quote', () => {
    const s0 = started().state;
    // The start buy of 3.12 at 160 pays 0.1 % in base: 0.00312 → 3.11688 received: 311 whole lots + 0.688 of one.
    const out = run(s0, {
      ...fill('g1-s0', 'e1', '160', 312),
      fee: '0.00312',
      feeCurrency: 'base',
    } as GridEvent);
    expect(out.commands).toEqual([
      expect.objectContaining({ clientOrderId: 'g1-2-1', side: 'sell', priceText: '175', lots: 156 }),
      // The last cell sells what it got, one lot short of q.
      expect.objectContaining({ clientOrderId: 'g1-3-1', side: 'sell', priceText: '200', lots: 155 }),
    ]);
    expect(out.state.ledger).toMatchObject({
      quote: '500.8', // 1000 − 3.12 × 160; no quote fee
      baseLots: 311,
      dust: '0.00688',
      dustCost: '1.1008', // 0.00688 × 160
      fees: '0.4992', // 0.00312 BTC valued at 160
    });
    // What the base cost = what is held at cost + the fee: 3.11 × 160 + 1.1008 + 0.4992 = 499.2.
    expect(gridFigures(out.state)).toMatchObject({ baseQty: '3.11688', baseCost: '498.7008' });
    // The short cell sells its 155 lots at 200; Bybit takes the sell's fee in quote.
    const sold = run(out.state, {
      ...fill('g1-3-1', 'e2', '200', 155),
      fee: '0.31',
      feeCurrency: 'quote',
    } as GridEvent);
    expect(sold.state.ledger).toMatchObject({ gridProfit: '62', baseLots: 156, quote: '810.49' });
    expect(sold.commands).toEqual([
      expect.objectContaining({ clientOrderId: 'g1-3-2', side: 'buy', lots: 156 }),
    ]);
  });

  it('a grid buy whose fee came out of the base sells what it received', () => {
    const s0 = run(started().state, fill('g1-s0', 'e0', '160', 312)).state;
    const out = run(s0, {
      ...fill('g1-1-1', 'e1', '125', 156),
      fee: '0.00156',
      feeCurrency: 'base',
    } as GridEvent);
    // 1.56 − 0.00156 = 1.55844: 155 lots to the cell, 0.844 of a lot to the dust.
    expect(out.commands).toEqual([
      expect.objectContaining({ clientOrderId: 'g1-1-2', side: 'sell', lots: 155 }),
    ]);
    expect(out.state.ledger).toMatchObject({ dust: '0.00844', baseLots: 312 + 155 });
  });
});
