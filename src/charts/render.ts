import { createCanvas } from '@napi-rs/canvas';
import { Chart, type ChartConfiguration, type ChartItem, type Plugin, registerables } from 'chart.js';

Chart.register(...registerables);

/**
 * Chart.js drawn on @napi-rs/canvas: Skia shipped as a prebuilt binary inside the npm package, so `npm ci` needs no
 * system libraries or compiler (chartjs-node-canvas needs node-canvas, which builds from source here). Charts are
 * sized and coloured to be read on a phone: dark background, thick lines, large fonts.
 */
export const CHART_THEME = {
  background: '#111827',
  grid: '#374151',
  text: '#e5e7eb',
  equity: '#38bdf8',
  profit: '#4ade80',
  loss: '#f87171',
  accent: '#fbbf24',
} as const;

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

export interface ChartSize {
  readonly width: number;
  readonly height: number;
}

export const DEFAULT_CHART_SIZE: ChartSize = { width: 1000, height: 560 };

/** Renders any Chart.js configuration to a PNG; animation and responsiveness are forced off for a server. */
export function renderChart(config: ChartConfiguration, size: ChartSize = DEFAULT_CHART_SIZE): Buffer {
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
    return canvas.toBuffer('image/png');
  } finally {
    chart.destroy();
  }
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export interface EquityChartInput {
  readonly title: string;
  readonly openTimeMs: readonly number[];
  readonly equity: readonly number[];
  readonly gridProfit: readonly number[];
}

/** Equity (left axis) and cumulative grid profit (right axis) over time. */
export function renderEquityChart(input: EquityChartInput, size: ChartSize = DEFAULT_CHART_SIZE): Buffer {
  const font = { size: 18 };
  const points = (values: readonly number[]) => values.map((y, i) => ({ x: input.openTimeMs[i]!, y }));
  return renderChart(
    {
      type: 'line',
      data: {
        datasets: [
          {
            label: 'Equity',
            data: points(input.equity),
            borderColor: CHART_THEME.equity,
            borderWidth: 3,
            pointRadius: 0,
            yAxisID: 'equity',
          },
          {
            label: 'Grid profit (cumulative)',
            data: points(input.gridProfit),
            borderColor: CHART_THEME.profit,
            borderWidth: 3,
            pointRadius: 0,
            yAxisID: 'profit',
          },
        ],
      },
      options: {
        parsing: false,
        plugins: {
          title: { display: true, text: input.title, color: CHART_THEME.text, font: { size: 22 } },
          legend: { labels: { color: CHART_THEME.text, font } },
        },
        scales: {
          x: {
            type: 'linear',
            min: input.openTimeMs[0] ?? 0,
            max: input.openTimeMs[input.openTimeMs.length - 1] ?? 1,
            ticks: { color: CHART_THEME.text, font, maxTicksLimit: 6, callback: (v) => utcDay(Number(v)) },
            grid: { color: CHART_THEME.grid },
          },
          equity: {
            position: 'left',
            ticks: { color: CHART_THEME.equity, font },
            grid: { color: CHART_THEME.grid },
          },
          profit: {
            position: 'right',
            ticks: { color: CHART_THEME.profit, font },
            grid: { drawOnChartArea: false },
          },
        },
      },
    },
    size,
  );
}
