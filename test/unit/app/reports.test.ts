import { describe, expect, it } from 'vitest';
import { pnlChartPoints } from '../../../src/app/reports.js';
import type { PnlReport } from '../../../src/app/views.js';

const HOUR = 3_600_000;

/** Five hourly buckets: equity first measured in the third, not in the fourth. */
const report: PnlReport = {
  period: 'day',
  fromMs: 0,
  toMs: 5 * HOUR,
  realized: '3',
  fees: '0.5',
  net: '2.5',
  fills: 4,
  grids: [],
  points: [
    { timeMs: 0, cumulativeNet: '0', equity: null },
    { timeMs: HOUR, cumulativeNet: '1.25', equity: null },
    { timeMs: 2 * HOUR, cumulativeNet: '1.5', equity: '10001.5' },
    { timeMs: 3 * HOUR, cumulativeNet: '2', equity: null },
    { timeMs: 4 * HOUR, cumulativeNet: '2.5', equity: '10002.25' },
  ],
};

describe('P/L chart points', () => {
  it('carry the last measured equity over buckets the risk monitor did not measure', () => {
    expect(pnlChartPoints(report, 'skip')).toEqual([
      { timeMs: 2 * HOUR, equity: 10001.5, cumulativeProfit: 1.5 },
      { timeMs: 3 * HOUR, equity: 10001.5, cumulativeProfit: 2 },
      { timeMs: 4 * HOUR, equity: 10002.25, cumulativeProfit: 2.5 },
    ]);
  });

  it('span the whole period when asked, the buckets before the first measurement showing it', () => {
    expect(pnlChartPoints(report, 'first-measured')).toEqual([
      { timeMs: 0, equity: 10001.5, cumulativeProfit: 0 },
      { timeMs: HOUR, equity: 10001.5, cumulativeProfit: 1.25 },
      ...pnlChartPoints(report, 'skip'),
    ]);
  });

  it('are none before any equity was measured', () => {
    const unmeasured = { ...report, points: report.points.map((p) => ({ ...p, equity: null })) };
    expect(pnlChartPoints(unmeasured, 'skip')).toEqual([]);
    expect(pnlChartPoints(unmeasured, 'first-measured')).toEqual([]);
  });
});
