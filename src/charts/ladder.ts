import type { Chart, ChartConfiguration, Plugin, Scale } from 'chart.js';
import {
  axisStyle,
  baseOptions,
  ChartInputError,
  type ChartSize,
  formatNumber,
  type LegendEntry,
  requirePositive,
} from './common.js';
import { renderChart } from './render.js';
import { CHART_THEME, canvasFont, FONT } from './theme.js';

export interface GridLadderChartInput {
  readonly symbol: string;
  /** Grid prices, strictly increasing. Display values (see ./common.ts), as are all prices here. */
  readonly lines: readonly number[];
  readonly price: number;
  /** Prices of the open buy orders. */
  readonly buys: readonly number[];
  readonly sells: readonly number[];
  readonly stopLoss?: number;
  readonly takeProfit?: number;
}

/** Portrait: a phone shows a tall image full width, and the ladder needs height more than width. */
export const LADDER_CHART_SIZE: ChartSize = { width: 1000, height: 1400 };

// Two 18 px tick labels closer than this touch; the ladder labels every k-th line where k keeps them apart.
const MIN_TICK_GAP_PX = 34;
const DASH = [12, 8];
// The legend's sample line is short: the chart's dash would show one dash and a dot there.
const LEGEND_DASH = [6, 4];

function check(input: GridLadderChartInput): void {
  const { lines } = input;
  if (lines.length < 2) {
    throw new ChartInputError(`a grid ladder needs at least 2 lines, got ${lines.length}`);
  }
  lines.forEach((p, i) => {
    requirePositive(`grid line ${i}`, p);
    const below = lines[i - 1];
    if (below !== undefined && p <= below) {
      throw new ChartInputError(
        `grid lines must be strictly increasing: line ${i} (${p}) <= line ${i - 1} (${below})`,
      );
    }
  });
  requirePositive('price', input.price);
  for (const [i, p] of input.buys.entries()) requirePositive(`buy order ${i}`, p);
  for (const [i, p] of input.sells.entries()) requirePositive(`sell order ${i}`, p);
  if (input.stopLoss !== undefined) requirePositive('stop-loss', input.stopLoss);
  if (input.takeProfit !== undefined) requirePositive('take-profit', input.takeProfit);
}

/** Every k-th line, the smallest k that keeps labels `MIN_TICK_GAP_PX` apart at this scale. */
function tickLines(lines: readonly number[], pxPerUnit: number): number[] {
  let stride = 1;
  const fits = (k: number) => {
    for (let i = 0; i + k < lines.length; i += k) {
      if ((lines[i + k]! - lines[i]!) * pxPerUnit < MIN_TICK_GAP_PX) return false;
    }
    return true;
  };
  while (stride < lines.length - 1 && !fits(stride)) stride++;
  return lines.filter((_, i) => i % stride === 0);
}

interface Tag {
  readonly text: string;
  readonly y: number;
  readonly align: 'left' | 'right';
  readonly fill: string;
  readonly ink: string;
  readonly outline?: string;
}

/** A label in a box, so it stays readable over the lines it sits on; kept inside the plot area. */
function drawTag(chart: Chart, tag: Tag): void {
  const { ctx, chartArea } = chart;
  const padX = 8;
  const height = FONT.size + 10;
  ctx.font = canvasFont({ size: FONT.size, weight: 'bold' });
  const width = ctx.measureText(tag.text).width + 2 * padX;
  const x = tag.align === 'right' ? chartArea.right - width - 4 : chartArea.left + 4;
  const top = Math.min(Math.max(tag.y - height / 2, chartArea.top), chartArea.bottom - height);
  ctx.fillStyle = tag.fill;
  ctx.fillRect(x, top, width, height);
  if (tag.outline) {
    ctx.strokeStyle = tag.outline;
    ctx.lineWidth = 2;
    ctx.setLineDash([]);
    ctx.strokeRect(x, top, width, height);
  }
  ctx.fillStyle = tag.ink;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  ctx.fillText(tag.text, x + padX, top + height / 2 + 1);
}

function ladderPlugin(input: GridLadderChartInput): Plugin {
  return {
    id: 'gridops-ladder',
    afterDatasetsDraw(chart) {
      const { ctx, chartArea } = chart;
      const y = chart.scales.y!;
      const { lines } = input;
      let minGap = Number.POSITIVE_INFINITY;
      for (let i = 1; i < lines.length; i++) minGap = Math.min(minGap, lines[i]! - lines[i - 1]!);
      const gapPx = minGap * (y.height / (y.max - y.min));
      // Bare levels take at most 30 % of the space between them (orders a pixel more), so 200 levels stay apart.
      const width = Math.max(1, Math.min(3, Math.floor(gapPx * 0.3)));
      const stroke = (price: number, colour: string, lineWidth: number, dash: readonly number[] = []) => {
        const py = Math.round(y.getPixelForValue(price)) + (lineWidth % 2) / 2;
        ctx.strokeStyle = colour;
        ctx.lineWidth = lineWidth;
        ctx.setLineDash([...dash]);
        ctx.beginPath();
        ctx.moveTo(chartArea.left, py);
        ctx.lineTo(chartArea.right, py);
        ctx.stroke();
      };
      ctx.save();
      ctx.beginPath();
      ctx.rect(
        chartArea.left,
        chartArea.top,
        chartArea.right - chartArea.left,
        chartArea.bottom - chartArea.top,
      );
      ctx.clip();
      for (const p of lines) stroke(p, CHART_THEME.muted, width);
      // Orders one pixel thicker than bare levels, so they stand out even where colour alone would not.
      for (const p of input.buys) stroke(p, CHART_THEME.profit, width + 1);
      for (const p of input.sells) stroke(p, CHART_THEME.loss, width + 1);
      const limits: [number | undefined, string, string][] = [
        [input.stopLoss, 'SL', CHART_THEME.loss],
        [input.takeProfit, 'TP', CHART_THEME.profit],
      ];
      for (const [p, , colour] of limits) if (p !== undefined) stroke(p, colour, 3, DASH);
      stroke(input.price, CHART_THEME.accent, 4);
      for (const [p, name, colour] of limits) {
        if (p === undefined) continue;
        const text = `${name} ${formatNumber(p)}`;
        drawTag(chart, {
          text,
          y: y.getPixelForValue(p),
          align: 'left',
          fill: CHART_THEME.background,
          ink: colour,
          outline: colour,
        });
      }
      drawTag(chart, {
        text: formatNumber(input.price),
        y: y.getPixelForValue(input.price),
        align: 'right',
        fill: CHART_THEME.accent,
        ink: CHART_THEME.background,
      });
      ctx.restore();
    },
  };
}

function config(input: GridLadderChartInput): ChartConfiguration<'scatter'> {
  check(input);
  const { lines } = input;
  const prices = [lines[0]!, lines.at(-1)!, input.price, ...input.buys, ...input.sells];
  if (input.stopLoss !== undefined) prices.push(input.stopLoss);
  if (input.takeProfit !== undefined) prices.push(input.takeProfit);
  const lo = Math.min(...prices);
  const hi = Math.max(...prices);
  const pad = (hi - lo) * 0.04;
  const legend: LegendEntry[] = [
    { text: 'Price', colour: CHART_THEME.accent, line: true },
    { text: `${input.buys.length} buys`, colour: CHART_THEME.profit, line: true },
    { text: `${input.sells.length} sells`, colour: CHART_THEME.loss, line: true },
    { text: 'Level', colour: CHART_THEME.muted, line: true },
  ];
  if (input.stopLoss !== undefined) {
    legend.push({ text: 'Stop-loss', colour: CHART_THEME.loss, dash: LEGEND_DASH, line: true });
  }
  if (input.takeProfit !== undefined) {
    legend.push({ text: 'Take-profit', colour: CHART_THEME.profit, dash: LEGEND_DASH, line: true });
  }
  const title = `${input.symbol}: ${lines.length} grid lines, ${formatNumber(lines[0]!)} – ${formatNumber(lines.at(-1)!)}`;
  const price = axisStyle();
  return {
    type: 'scatter',
    data: { datasets: [] },
    options: {
      ...baseOptions<'scatter'>(title, legend),
      scales: {
        x: { display: false, min: 0, max: 1 },
        y: {
          ...price,
          min: lo - pad,
          max: hi + pad,
          // The ladder's own lines are the horizontal rules; axis grid lines between them would read as levels.
          grid: { drawOnChartArea: false, color: CHART_THEME.grid },
          ticks: { ...price.ticks, callback: (v) => formatNumber(Number(v)) },
          afterBuildTicks: (scale: Scale) => {
            const pxPerUnit = scale.height / (scale.max - scale.min);
            scale.ticks = tickLines(lines, pxPerUnit).map((value) => ({ value }));
          },
        },
      },
    },
    plugins: [ladderPlugin(input)],
  };
}

/**
 * The grid ladder: a line per grid price, open buys green and sells red, the current price in the accent colour
 * with its value, stop-loss and take-profit dashed. Readable from 2 to a few hundred lines.
 */
export function renderGridLadderChart(
  input: GridLadderChartInput,
  size: ChartSize = LADDER_CHART_SIZE,
): Buffer {
  return renderChart(config(input), size);
}
