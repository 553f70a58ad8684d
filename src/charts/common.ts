import type { ChartConfiguration, ChartOptions, ChartType, LegendItem, Plugin } from 'chart.js';
import { CHART_THEME, canvasFont, FONT, SMALL_FONT, TITLE_FONT } from './theme.js';
import { timeTicks } from './time-axis.js';

/*
 * The chart functions take plain numbers. Money in GridOps is exact decimal strings; callers convert them with
 * Number() only to draw, so a chart may be off in the 16th digit but nothing computed from it is.
 */

/** Input a chart cannot draw honestly (NaN, unordered levels): the caller's bug, named rather than drawn blank. */
export class ChartInputError extends Error {
  override readonly name = 'ChartInputError';
}

export function requireFinite(what: string, value: number): void {
  if (!Number.isFinite(value)) throw new ChartInputError(`${what} must be a finite number, got ${value}`);
}

export function requirePositive(what: string, value: number): void {
  requireFinite(what, value);
  if (value <= 0) throw new ChartInputError(`${what} must be above 0, got ${value}`);
}

export interface ChartSize {
  readonly width: number;
  readonly height: number;
}

export const DEFAULT_CHART_SIZE: ChartSize = { width: 1000, height: 560 };

// Up to 8 decimals covers every Bybit spot tick; grouping keeps 104,591.88 readable at a glance.
const NUMBER_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 8 });

export function formatNumber(value: number): string {
  return NUMBER_FORMAT.format(value);
}

/** Ticks and grid lines of one axis in the theme; `colour` ties an axis to its series when there are two. */
export function axisStyle(colour: string = CHART_THEME.text) {
  return {
    ticks: { color: colour, font: FONT },
    grid: { color: CHART_THEME.grid },
    border: { color: CHART_THEME.grid },
  };
}

export interface LegendEntry {
  readonly text: string;
  readonly colour: string;
  /** Fill when it differs from the outline, e.g. translucent for unrealized profit. */
  readonly fill?: string;
  readonly dash?: readonly number[];
  /** Drawn as a line sample rather than a box: for series that are lines on the chart. */
  readonly line?: boolean;
}

function legendItem(entry: LegendEntry): LegendItem {
  return {
    text: entry.text,
    fillStyle: entry.fill ?? entry.colour,
    strokeStyle: entry.colour,
    fontColor: CHART_THEME.text,
    lineWidth: entry.line ? 4 : 2,
    lineDash: [...(entry.dash ?? [])],
    pointStyle: entry.line ? 'line' : 'rect',
    hidden: false,
  };
}

/**
 * Options every chart shares: title, legend, locale, padding. `legend` replaces Chart.js's generated entries, which
 * take the colour of a dataset's first element and so mislead when bars are coloured one by one, or when lines are
 * drawn by a plugin rather than a dataset.
 */
export function baseOptions<T extends ChartType>(
  title: string,
  legend?: readonly LegendEntry[],
): ChartOptions<T> {
  return {
    locale: 'en-US',
    layout: { padding: { left: 8, right: 16, top: 8, bottom: 8 } },
    plugins: {
      title: {
        display: true,
        text: title,
        color: CHART_THEME.text,
        font: TITLE_FONT,
        padding: { bottom: 8 },
      },
      legend: {
        display: legend === undefined || legend.length > 0,
        labels: {
          color: CHART_THEME.text,
          font: SMALL_FONT,
          boxWidth: 28,
          usePointStyle: legend?.some((e) => e.line) ?? false,
          ...(legend ? { generateLabels: () => legend.map(legendItem) } : {}),
        },
      },
    },
  } as ChartOptions<T>;
}

/** Centred text in the plot area: an empty period says so instead of drawing empty axes. */
function messagePlugin(message: string): Plugin {
  return {
    id: 'gridops-message',
    afterDraw(chart) {
      const { ctx, chartArea } = chart;
      ctx.save();
      ctx.fillStyle = CHART_THEME.text;
      ctx.font = canvasFont({ size: 24 });
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(message, (chartArea.left + chartArea.right) / 2, (chartArea.top + chartArea.bottom) / 2);
      ctx.restore();
    },
  };
}

/** Title and a message, no axes: for a period or an account with nothing to draw. */
export function emptyChartConfig<T extends 'line' | 'bar'>(
  type: T,
  title: string,
  message: string,
): ChartConfiguration<T> {
  return {
    type,
    data: { datasets: [] },
    options: { ...baseOptions<T>(title, []), scales: { x: { display: false }, y: { display: false } } },
    plugins: [messagePlugin(message)],
  } as ChartConfiguration<T>;
}

export interface TimePoint {
  readonly x: number;
  readonly y: number;
}

export interface TimeSeries {
  readonly label: string;
  readonly colour: string;
  readonly points: readonly TimePoint[];
  /** Segments below zero drawn in the loss colour (profit series). */
  readonly lossBelowZero?: boolean;
}

export interface TimeSeriesChart {
  readonly title: string;
  /** Left axis, with grid lines. */
  readonly left: TimeSeries;
  /** Right axis, ticks in its colour; a different scale because profit is a small fraction of equity. */
  readonly right: TimeSeries;
  readonly emptyMessage: string;
}

function checkSeries(series: TimeSeries): void {
  let previous = Number.NEGATIVE_INFINITY;
  series.points.forEach((p, i) => {
    requireFinite(`${series.label}: time of point ${i}`, p.x);
    requireFinite(`${series.label}: value of point ${i}`, p.y);
    if (p.x < previous) {
      throw new ChartInputError(
        `${series.label}: times must not go backwards (point ${i}: ${p.x} < ${previous})`,
      );
    }
    previous = p.x;
  });
}

// A lone point needs a marker to be seen at all; a few dozen (a day of hours) read better with markers too.
function pointRadius(n: number): number {
  if (n === 1) return 6;
  return n <= 48 ? 3 : 0;
}

/**
 * A flat series (one point, or a period without trades) is centred by Chart.js on its axis, and two flat series on
 * two axes then cover each other. Suggest a range that puts the left one high and the right one low; suggested (not
 * fixed) bounds let Chart.js round the ends to tick values.
 */
function flatAxisRange(
  series: TimeSeries,
  side: 'left' | 'right',
): { suggestedMin?: number; suggestedMax?: number } {
  const first = series.points[0]?.y;
  if (first === undefined || series.points.some((p) => p.y !== first)) return {};
  const d = Math.abs(first) * 0.05 || 1;
  return side === 'left'
    ? { suggestedMin: first - 2 * d, suggestedMax: first + d }
    : { suggestedMin: first - d, suggestedMax: first + 2 * d };
}

function lineDataset(series: TimeSeries, yAxisID: string) {
  return {
    label: series.label,
    data: series.points as TimePoint[],
    borderColor: series.colour,
    backgroundColor: series.colour,
    borderWidth: 3,
    pointRadius: pointRadius(series.points.length),
    yAxisID,
    ...(series.lossBelowZero
      ? {
          segment: {
            borderColor: (ctx: { p1: { parsed: { y: number | null } } }) =>
              (ctx.p1.parsed.y ?? 0) < 0 ? CHART_THEME.loss : undefined,
          },
        }
      : {}),
  };
}

/** Two series over time on a UTC time axis; with no points, the title and `emptyMessage` only. */
export function timeSeriesConfig(input: TimeSeriesChart, size: ChartSize): ChartConfiguration<'line'> {
  checkSeries(input.left);
  checkSeries(input.right);
  const { left, right } = input;
  if (left.points.length === 0 && right.points.length === 0) {
    return emptyChartConfig('line', input.title, input.emptyMessage);
  }
  // Times are checked to be in order, so the ends are the extremes (a backtest has 500,000 points: no spreading).
  let min = Math.min(
    left.points[0]?.x ?? Number.POSITIVE_INFINITY,
    right.points[0]?.x ?? Number.POSITIVE_INFINITY,
  );
  let max = Math.max(
    left.points.at(-1)?.x ?? Number.NEGATIVE_INFINITY,
    right.points.at(-1)?.x ?? Number.NEGATIVE_INFINITY,
  );
  if (min === max) {
    // One instant has no span to lay a time axis over: centre it in an hour.
    min -= 30 * 60_000;
    max += 30 * 60_000;
  }
  const ticks = timeTicks(min, max, Math.max(2, Math.floor(size.width / 125)));
  return {
    type: 'line',
    data: { datasets: [lineDataset(left, 'left'), lineDataset(right, 'right')] },
    options: {
      ...baseOptions<'line'>(input.title),
      parsing: false,
      scales: {
        x: {
          type: 'linear',
          min,
          max,
          ...axisStyle(),
          ticks: { ...axisStyle().ticks, maxRotation: 0, callback: (v) => ticks.label(Number(v)) },
          afterBuildTicks: (scale) => {
            scale.ticks = ticks.values.map((value) => ({ value }));
          },
          title: { display: true, text: 'UTC', color: CHART_THEME.muted, font: SMALL_FONT, padding: 0 },
        },
        left: { position: 'left', ...axisStyle(left.colour), ...flatAxisRange(left, 'left') },
        right: {
          position: 'right',
          ...axisStyle(right.colour),
          grid: { drawOnChartArea: false },
          ...flatAxisRange(right, 'right'),
        },
      },
    },
  };
}
