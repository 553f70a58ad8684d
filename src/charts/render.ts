import { createCanvas } from '@napi-rs/canvas';
import {
  Chart,
  type ChartConfiguration,
  type ChartItem,
  type ChartType,
  type Plugin,
  registerables,
} from 'chart.js';
import { type ChartSize, DEFAULT_CHART_SIZE, timeSeriesConfig } from './common.js';
import { encodePng } from './png.js';
import { CHART_THEME } from './theme.js';

export { ChartInputError, type ChartSize, DEFAULT_CHART_SIZE } from './common.js';
export { CHART_THEME } from './theme.js';

Chart.register(...registerables);

/*
 * Chart.js drawn on @napi-rs/canvas: Skia shipped as a prebuilt binary inside the npm package, so `npm ci` needs no
 * system libraries or compiler (chartjs-node-canvas needs node-canvas, which builds from source here). Charts are
 * sized and coloured to be read on a phone: dark background, thick lines, large fonts (./theme.ts).
 */

const background: Plugin = {
  id: 'gridops-background',
  beforeDraw(chart) {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.fillStyle = CHART_THEME.background;
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

/** Renders any Chart.js configuration to a PNG; animation and responsiveness are forced off for a server. */
export function renderChart<T extends ChartType>(
  config: ChartConfiguration<T>,
  size: ChartSize = DEFAULT_CHART_SIZE,
): Buffer {
  const canvas = createCanvas(size.width, size.height);
  const ctx = canvas.getContext('2d');
  const chart = new Chart(
    ctx as unknown as ChartItem,
    {
      ...config,
      options: { ...config.options, responsive: false, animation: false, devicePixelRatio: 1 },
      plugins: [...(config.plugins ?? []), background],
    } as ChartConfiguration,
  );
  try {
    return encodePng(size.width, size.height, canvas.data());
  } finally {
    chart.destroy();
  }
}

export interface EquityChartInput {
  readonly title: string;
  readonly openTimeMs: readonly number[];
  readonly equity: readonly number[];
  readonly gridProfit: readonly number[];
}

/** Equity (left axis) and cumulative grid profit (right axis) over a backtest. */
export function renderEquityChart(input: EquityChartInput, size: ChartSize = DEFAULT_CHART_SIZE): Buffer {
  const points = (values: readonly number[]) => values.map((y, i) => ({ x: input.openTimeMs[i]!, y }));
  return renderChart(
    timeSeriesConfig(
      {
        title: input.title,
        left: { label: 'Equity', colour: CHART_THEME.equity, points: points(input.equity) },
        right: {
          label: 'Grid profit (cumulative)',
          colour: CHART_THEME.profit,
          points: points(input.gridProfit),
        },
        emptyMessage: 'No candles',
      },
      size,
    ),
    size,
  );
}
