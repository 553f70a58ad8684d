import type { ChartConfiguration, ScriptableScaleContext } from 'chart.js';
import {
  axisStyle,
  baseOptions,
  type ChartSize,
  DEFAULT_CHART_SIZE,
  emptyChartConfig,
  requireFinite,
} from './common.js';
import { renderChart } from './render.js';
import { CHART_THEME, SMALL_FONT } from './theme.js';

export interface GridProfit {
  readonly label: string;
  /** Display values (see ./common.ts). */
  readonly realized: number;
  readonly unrealized: number;
}

export interface ProfitPerGridChartInput {
  readonly title: string;
  readonly grids: readonly GridProfit[];
  readonly currency: string;
}

// Per grid: two bars and a 16 px label need about 30 px; above the plot, title, legend and the value axis need 170.
const ROW_PX = 30;
const FRAME_PX = 170;
const MAX_LABEL = 20;
// Hex alpha: unrealized profit is the same hue as realized, see-through, because it may still go away.
const TRANSLUCENT = '55';

/** The default size, taller than 560 px once there are more grids than fit one label per 30 px. */
export function profitPerGridSize(grids: number): ChartSize {
  return {
    width: DEFAULT_CHART_SIZE.width,
    height: Math.max(DEFAULT_CHART_SIZE.height, FRAME_PX + grids * ROW_PX),
  };
}

const signColour = (value: number) => (value < 0 ? CHART_THEME.loss : CHART_THEME.profit);
const shortLabel = (label: string) =>
  label.length > MAX_LABEL ? `${label.slice(0, MAX_LABEL - 1)}…` : label;

function config(input: ProfitPerGridChartInput): ChartConfiguration<'bar'> {
  input.grids.forEach((g, i) => {
    requireFinite(`grid ${i} (${g.label}) realized profit`, g.realized);
    requireFinite(`grid ${i} (${g.label}) unrealized profit`, g.unrealized);
  });
  if (input.grids.length === 0) return emptyChartConfig('bar', input.title, 'No grids');
  const realized = input.grids.map((g) => g.realized);
  const unrealized = input.grids.map((g) => g.unrealized);
  const legend = [
    { text: 'Realized', colour: CHART_THEME.profit },
    { text: 'Unrealized', colour: CHART_THEME.profit, fill: `${CHART_THEME.profit}${TRANSLUCENT}` },
    { text: 'Loss', colour: CHART_THEME.loss },
  ];
  const value = axisStyle();
  return {
    type: 'bar',
    data: {
      labels: input.grids.map((g) => shortLabel(g.label)),
      datasets: [
        { label: 'Realized', data: realized, backgroundColor: realized.map(signColour) },
        {
          label: 'Unrealized',
          data: unrealized,
          backgroundColor: unrealized.map((v) => `${signColour(v)}${TRANSLUCENT}`),
          borderColor: unrealized.map(signColour),
          borderWidth: 2,
        },
      ],
    },
    options: {
      ...baseOptions<'bar'>(input.title, legend),
      // Horizontal: grid names stay horizontal and readable however many grids there are.
      indexAxis: 'y',
      scales: {
        x: {
          ...value,
          // The zero line separates profit from loss: as bright as the text, the other lines stay dim.
          grid: {
            color: (c: ScriptableScaleContext) => (c.tick?.value === 0 ? CHART_THEME.text : CHART_THEME.grid),
          },
          title: {
            display: true,
            text: input.currency,
            color: CHART_THEME.muted,
            font: SMALL_FONT,
            padding: 0,
          },
        },
        y: { ...axisStyle(), ticks: { ...value.ticks, autoSkip: false }, grid: { display: false } },
      },
    },
  };
}

/** Realized and unrealized profit per grid as horizontal bars, losses in the loss colour. */
export function renderProfitPerGridChart(
  input: ProfitPerGridChartInput,
  size: ChartSize = profitPerGridSize(input.grids.length),
): Buffer {
  return renderChart(config(input), size);
}
