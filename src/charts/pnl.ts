import { type ChartSize, DEFAULT_CHART_SIZE, timeSeriesConfig } from './common.js';
import { renderChart } from './render.js';
import { CHART_THEME } from './theme.js';

export interface PnlPoint {
  readonly timeMs: number;
  readonly equity: number;
  readonly cumulativeProfit: number;
}

export interface PnlChartInput {
  /** Names the period, e.g. "BTCUSDT grid: last 7 days"; the time axis adapts to the span of the points. */
  readonly title: string;
  /** In time order; display values (see ./common.ts). */
  readonly points: readonly PnlPoint[];
  readonly currency: string;
}

/** Equity (left axis) and cumulative realized profit (right axis, red below zero) over a period. */
export function renderPnlChart(input: PnlChartInput, size: ChartSize = DEFAULT_CHART_SIZE): Buffer {
  const series = (value: (p: PnlPoint) => number) => input.points.map((p) => ({ x: p.timeMs, y: value(p) }));
  return renderChart(
    timeSeriesConfig(
      {
        title: input.title,
        left: {
          label: `Equity (${input.currency})`,
          colour: CHART_THEME.equity,
          points: series((p) => p.equity),
        },
        right: {
          label: `Realized profit, cumulative (${input.currency})`,
          colour: CHART_THEME.profit,
          points: series((p) => p.cumulativeProfit),
          lossBelowZero: true,
        },
        emptyMessage: 'No trades in this period',
      },
      size,
    ),
    size,
  );
}
