import { describe, expect, it } from 'vitest';
import type { GridParams } from '../../../src/engine/grid/params.js';
import { nearestLine, planGrid, planLines } from '../../../src/engine/grid/plan.js';
import { priceText, toPriceUnits } from '../../../src/engine/money.js';
import { handGrid } from '../../support/grids.js';

// The hand-worked grid with a finer tick and step, and a minimum order value of 5.
const params = (extra: Partial<GridParams> = {}): GridParams =>
  handGrid({ instrument: { tickSize: '0.01', qtyStep: '0.001', minQty: '0.001', minValue: '5' }, ...extra });
const lines = (p: GridParams) => {
  const r = planLines(p);
  if (!r.ok) throw new Error(r.error.message);
  return r.value.lines.map(priceText);
};
const errorOf = (r: { ok: boolean; error?: { message: string } }) => (r.ok ? 'ok' : r.error!.message);

describe('grid lines', () => {
  it('arithmetic: L + i(U - L)/N, rounded half up to the tick', () => {
    expect(lines(params())).toEqual(['100', '125', '150', '175', '200']);
    // (200 - 100) / 3 = 33.333.. → 133.33, 166.666.. → 166.67
    expect(lines(params({ grids: 3 }))).toEqual(['100', '133.33', '166.67', '200']);
    // tick 0.5: 100.25 is exactly half a tick → rounds up to 100.5
    expect(
      lines(
        params({
          lower: '100',
          upper: '100.5',
          grids: 2,
          instrument: { ...params().instrument, tickSize: '0.25' },
        }),
      ),
    ).toEqual(['100', '100.25', '100.5']);
  });

  it('geometric: L(U/L)^(i/N), rounded half up to the tick', () => {
    // 100 x 2^(1/4) = 118.9207.., 2^(1/2) = 141.4213.., 2^(3/4) = 168.1792..
    expect(lines(params({ mode: 'geometric' }))).toEqual(['100', '118.92', '141.42', '168.18', '200']);
    // An exact power: 100 x 4^(1/2) = 200 exactly.
    expect(lines(params({ mode: 'geometric', upper: '400', grids: 2 }))).toEqual(['100', '200', '400']);
  });

  it('refuses lines that round onto each other, a reversed range and a grid count out of range', () => {
    expect(errorOf(planLines(params({ lower: '100', upper: '100.03', grids: 5 })))).toMatch(
      // 100.006 and 100.012 both round to 100.01
      /grid too fine for tick 0.01: lines 1 and 2 both round to 100.01; use fewer grids or a wider range/,
    );
    expect(errorOf(planLines(params({ lower: '200', upper: '100' })))).toBe(
      'lower 200 must be below upper 100',
    );
    expect(errorOf(planLines(params({ grids: 1 })))).toMatch(
      /grid count must be a whole number from 2 to 500, got 1/,
    );
    expect(errorOf(planLines(params({ grids: 501 })))).toMatch(/from 2 to 500, got 501/);
    expect(errorOf(planLines(params({ stopLoss: '90.005' })))).toBe(
      'stop-loss 90.005 is not a multiple of the tick 0.01',
    );
  });
});

describe('grid plan at a start price', () => {
  it('q = I / N / P0 rounded down to the step; k = the nearest line, the lower one on a tie', () => {
    const r = planGrid(params(), toPriceUnits('137.5'));
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.qtyLots).toBe(1818); // 1000 / 4 / 137.5 = 1.81818.. → 1.818
    expect(r.value.gapLine).toBe(1);
    const units = [100, 125, 150].map((p) => toPriceUnits(String(p)));
    expect(nearestLine(units, toPriceUnits('137.5'))).toBe(1);
    expect(nearestLine(units, toPriceUnits('137.51'))).toBe(2);
    expect(nearestLine(units, toPriceUnits('50'))).toBe(0);
    expect(nearestLine(units, toPriceUnits('500'))).toBe(2);
  });

  it('refuses a quantity below the minimum, an order below the minimum value, and misplaced stops, with figures', () => {
    const at150 = toPriceUnits('150');
    // 1 / 4 / 150 = 0.001666.. → 0.001: enough for a minimum of 0.001, not for 0.002.
    const strict = { ...params().instrument, minQty: '0.002' };
    expect(errorOf(planGrid(params({ investment: '1', instrument: strict }), at150))).toBe(
      'quantity per grid 0.001 (investment 1 / 4 grids / start price 150, rounded down to step 0.001) is below the minimum quantity 0.002',
    );
    expect(errorOf(planGrid(params({ investment: '1' }), at150))).toBe(
      'order value at the lowest line 0.001 x 100 = 0.1 is below the minimum order value 5',
    );
    expect(errorOf(planGrid(params({ stopLoss: '150' }), at150))).toBe(
      'stop-loss 150 must be below the start price 150',
    );
    expect(errorOf(planGrid(params({ takeProfit: '149.99' }), at150))).toBe(
      'take-profit 149.99 must be above the start price 150',
    );
    expect(errorOf(planGrid(params({ stopLoss: '90', takeProfit: '210' }), at150))).toBe('ok');
  });
});
