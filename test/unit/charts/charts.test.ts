import { createCanvas, loadImage } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { ChartInputError } from '../../../src/charts/common.js';
import { type GridLadderChartInput, renderGridLadderChart } from '../../../src/charts/ladder.js';
import { encodePng } from '../../../src/charts/png.js';
import { type PnlPoint, renderPnlChart } from '../../../src/charts/pnl.js';
import { type GridProfit, renderProfitPerGridChart } from '../../../src/charts/profit-per-grid.js';
import { CHART_THEME } from '../../../src/charts/theme.js';
import { timeTicks } from '../../../src/charts/time-axis.js';
import { inspectPng } from '../../support/png.js';

/*
 * "Not blank" thresholds, measured: the background alone is 1 colour; a title and a one-line message (the empty P/L
 * chart) about 180, all of them antialiasing shades of the text; every chart below with its data drawn has 370 or
 * more. So > 250 means more than text was drawn, > 100 that at least the text was. The colour counts only catch a
 * blank image; what was drawn is checked by counting pixels of the theme colour that stands for it.
 */
const DRAWN = 250;
const TEXT_ONLY = 100;

const HOUR = 3_600_000;
const JUNE = Date.UTC(2025, 5, 1);

interface Pixels {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

async function pixels(png: Buffer): Promise<Pixels> {
  const image = await loadImage(png);
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  return {
    width: image.width,
    height: image.height,
    data: ctx.getImageData(0, 0, image.width, image.height).data,
  };
}

function isColour(p: Pixels, x: number, y: number, hex: string): boolean {
  const i = (y * p.width + x) * 4;
  const rgb = Number.parseInt(hex.slice(1), 16);
  return p.data[i] === rgb >> 16 && p.data[i + 1] === ((rgb >> 8) & 0xff) && p.data[i + 2] === (rgb & 0xff);
}

type Span = readonly [number, number];

/** Pixels exactly of `hex`: line centres and bar fills are drawn unblended, so they keep the theme colour. */
function countColour(p: Pixels, hex: string, area: { x?: Span; y?: Span } = {}): number {
  const [x0, x1] = area.x ?? [0, p.width];
  const [y0, y1] = area.y ?? [0, p.height];
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (isColour(p, x, y, hex)) n++;
  return n;
}

// Inside the plot of a 1000x560 time chart, clear of the legend's swatches and the axes' coloured tick labels.
const TIME_PLOT = { x: [100, 920], y: [85, 490] } as const;

/** Vertical runs of rows, in one column or any of a span of columns, where `hit` holds: how many marks and how tall. */
function runs(p: Pixels, columns: Span, hit: (x: number, y: number) => boolean): number[] {
  const heights: number[] = [];
  let current = 0;
  for (let y = 0; y < p.height; y++) {
    let any = false;
    for (let x = columns[0]; x < columns[1] && !any; x++) any = hit(x, y);
    if (any) current++;
    else if (current > 0) {
      heights.push(current);
      current = 0;
    }
  }
  if (current > 0) heights.push(current);
  return heights;
}

function hourly(hours: number): PnlPoint[] {
  return Array.from({ length: hours }, (_, i) => ({
    timeMs: JUNE + i * HOUR,
    equity: 10_000 + 50 * Math.sin(i / 20) + i * 0.2,
    cumulativeProfit: i * 0.8,
  }));
}

function ladder(n: number, extra: Partial<GridLadderChartInput> = {}): GridLadderChartInput {
  const lines = Array.from({ length: n }, (_, i) => 80_000 + i * 200);
  // Half way between two levels, as a price usually is; a price right on a level hides that level's order.
  const price = lines[Math.floor(n / 2) - 1]! + 100;
  return {
    symbol: 'BTCUSDT',
    lines,
    price,
    buys: lines.filter((p) => p < price),
    sells: lines.filter((p) => p > price),
    ...extra,
  };
}

describe('P/L chart', () => {
  it('draws a month of hourly equity and realized profit, 1000x560', async () => {
    const png = renderPnlChart({ title: 'BTCUSDT: June', points: hourly(720), currency: 'USDT' });
    const info = await inspectPng(png);
    expect(info).toMatchObject({ width: 1000, height: 560 });
    expect(info.colours).toBeGreaterThan(DRAWN);
    const p = await pixels(png);
    // Two 3 px lines across ~850 px of plot: well over a thousand pixels each.
    expect(countColour(p, CHART_THEME.equity, TIME_PLOT)).toBeGreaterThan(1000);
    expect(countColour(p, CHART_THEME.profit, TIME_PLOT)).toBeGreaterThan(1000);
  });

  it('says "no trades" for an empty period instead of drawing empty axes', async () => {
    const png = renderPnlChart({ title: 'BTCUSDT: today', points: [], currency: 'USDT' });
    const info = await inspectPng(png);
    expect(info).toMatchObject({ width: 1000, height: 560 });
    expect(info.colours).toBeGreaterThan(TEXT_ONLY);
    const p = await pixels(png);
    expect(countColour(p, CHART_THEME.equity)).toBe(0);
    // The message sits in the middle band of the image, well below the title.
    expect(countColour(p, CHART_THEME.text, { y: [200, 360] })).toBeGreaterThan(100);
  });

  it('shows a single point, both series visible rather than one hiding the other', async () => {
    const point = { timeMs: JUNE + 14 * HOUR, equity: 10_000, cumulativeProfit: 1.5 };
    const p = await pixels(renderPnlChart({ title: 'today', points: [point], currency: 'USDT' }));
    // A 6 px marker is about 110 pixels; most of each must show.
    expect(countColour(p, CHART_THEME.equity, TIME_PLOT)).toBeGreaterThan(80);
    expect(countColour(p, CHART_THEME.profit, TIME_PLOT)).toBeGreaterThan(80);
  });

  it('draws cumulative profit below zero in the loss colour', async () => {
    const points = hourly(48).map((q, i) => ({ ...q, cumulativeProfit: 10 - i }));
    const losing = await pixels(renderPnlChart({ title: 'loss', points, currency: 'USDT' }));
    const winning = await pixels(renderPnlChart({ title: 'win', points: hourly(48), currency: 'USDT' }));
    expect(countColour(losing, CHART_THEME.loss, TIME_PLOT)).toBeGreaterThan(500);
    expect(countColour(winning, CHART_THEME.loss, TIME_PLOT)).toBe(0);
  });

  it.each([
    [
      'a NaN equity',
      [{ timeMs: JUNE, equity: Number.NaN, cumulativeProfit: 0 }],
      /value of point 0 must be a finite/,
    ],
    [
      'time going backwards',
      [
        { timeMs: JUNE + HOUR, equity: 1, cumulativeProfit: 0 },
        { timeMs: JUNE, equity: 1, cumulativeProfit: 0 },
      ],
      /times must not go backwards \(point 1/,
    ],
  ])('refuses %s', (_, points, message) => {
    expect(() => renderPnlChart({ title: 'x', points, currency: 'USDT' })).toThrow(ChartInputError);
    expect(() => renderPnlChart({ title: 'x', points, currency: 'USDT' })).toThrow(message);
  });
});

describe('P/L time axis', () => {
  const labels = (min: number, max: number) => {
    const t = timeTicks(min, max, 8);
    return t.values.map(t.label);
  };

  it.each([
    [
      'a day from 14:00: hours, midnight as the date',
      JUNE + 14 * HOUR,
      JUNE + 37 * HOUR,
      ['15:00', '18:00', '21:00', 'Jun 2', '03:00', '06:00', '09:00', '12:00'],
    ],
    [
      'a week: days',
      JUNE,
      JUNE + 7 * 24 * HOUR - HOUR,
      ['Jun 1', 'Jun 2', 'Jun 3', 'Jun 4', 'Jun 5', 'Jun 6', 'Jun 7'],
    ],
    [
      'a month: Mondays',
      JUNE,
      JUNE + 30 * 24 * HOUR - HOUR,
      ['Jun 2', 'Jun 9', 'Jun 16', 'Jun 23', 'Jun 30'],
    ],
    [
      'a year: every other month',
      Date.UTC(2025, 0, 1),
      Date.UTC(2025, 11, 31),
      ['Jan 2025', 'Mar 2025', 'May 2025', 'Jul 2025', 'Sep 2025', 'Nov 2025'],
    ],
    ['twenty years: years', Date.UTC(2010, 3, 1), Date.UTC(2030, 0, 1), ['2015', '2020', '2025', '2030']],
  ])('labels %s', (_, min, max, expected) => {
    expect(labels(min, max)).toEqual(expected);
  });
});

describe('profit per grid chart', () => {
  const grids: GridProfit[] = Array.from({ length: 20 }, (_, i) => ({
    label: `BTCUSDT #${i + 1}`,
    realized: 10 + i * 7,
    unrealized: i % 3 === 0 ? -40 - i : 25 + i,
  }));

  it('draws 20 grids, taller than the default so every label gets a row', async () => {
    const png = renderProfitPerGridChart({ title: 'Profit per grid', grids, currency: 'USDT' });
    const info = await inspectPng(png);
    expect(info).toMatchObject({ width: 1000, height: 770 });
    expect(info.colours).toBeGreaterThan(DRAWN);
    expect(countColour(await pixels(png), CHART_THEME.profit)).toBeGreaterThan(5000);
  });

  it('draws losses in the loss colour and only losses', async () => {
    const allProfit = grids.map((g) => ({ ...g, unrealized: Math.abs(g.unrealized) }));
    const withLoss = allProfit.map((g, i) => (i === 4 ? { ...g, realized: -120 } : g));
    const clean = await pixels(renderProfitPerGridChart({ title: 'x', grids: allProfit, currency: 'USDT' }));
    const lossy = await pixels(renderProfitPerGridChart({ title: 'x', grids: withLoss, currency: 'USDT' }));
    const belowLegend = { y: [80, 770] } as const; // the legend's "Loss" swatch is always there
    expect(countColour(clean, CHART_THEME.loss, belowLegend)).toBe(0);
    expect(countColour(lossy, CHART_THEME.loss, belowLegend)).toBeGreaterThan(500);
  });

  it('says so when there are no grids', async () => {
    const png = renderProfitPerGridChart({ title: 'Profit per grid', grids: [], currency: 'USDT' });
    const p = await pixels(png);
    expect(p.height).toBe(560);
    expect(countColour(p, CHART_THEME.profit)).toBe(0);
    expect(countColour(p, CHART_THEME.text, { y: [200, 360] })).toBeGreaterThan(50);
  });

  it('refuses a NaN profit', () => {
    const bad = [{ label: 'ETH', realized: 1, unrealized: Number.NaN }];
    expect(() => renderProfitPerGridChart({ title: 'x', grids: bad, currency: 'USDT' })).toThrow(
      /grid 0 \(ETH\) unrealized profit must be a finite number, got NaN/,
    );
  });
});

describe('grid ladder chart', () => {
  // The plot area of the 1000x1400 ladder, clear of the title, legend, tags and axis labels.
  const PLOT_ROWS: Span = [90, 1390];
  const MIDDLE: Span = [500, 501];

  it.each([2, 10, 100, 200])('keeps each of %i lines apart, buys green and sells red', async (n) => {
    const input = ladder(n, { stopLoss: 79_000, takeProfit: 80_000 + n * 200 });
    const png = renderGridLadderChart(input);
    const info = await inspectPng(png);
    expect(info).toMatchObject({ width: 1000, height: 1400 });
    expect(info.colours).toBeGreaterThan(DRAWN);
    const p = await pixels(png);
    const inPlot = (y: number) => y >= PLOT_ROWS[0] && y < PLOT_ROWS[1];
    // Down the middle column every order is its own run of pixels: none merge, none vanish (SL/TP dashes may
    // add a run each, depending on where the dash falls).
    const green = runs(p, MIDDLE, (x, y) => inPlot(y) && isColour(p, x, y, CHART_THEME.profit));
    const red = runs(p, MIDDLE, (x, y) => inPlot(y) && isColour(p, x, y, CHART_THEME.loss));
    expect(green.length - input.buys.length).toBeGreaterThanOrEqual(0);
    expect(green.length - input.buys.length).toBeLessThanOrEqual(1);
    expect(red.length - input.sells.length).toBeGreaterThanOrEqual(0);
    expect(red.length - input.sells.length).toBeLessThanOrEqual(1);
    // The price: one bold accent line across the plot.
    expect(countColour(p, CHART_THEME.accent, { y: PLOT_ROWS })).toBeGreaterThan(4 * 800);
  });

  it('labels the price axis without crowding, even with 200 lines', async () => {
    const p = await pixels(renderGridLadderChart(ladder(200)));
    const bright = (x: number, y: number) => {
      const i = (y * p.width + x) * 4;
      return p.data[i]! > 150 && p.data[i + 1]! > 150 && p.data[i + 2]! > 150;
    };
    // Tick labels are the only text at the far left: each must be a separate band no taller than one line of text.
    const labels = runs(p, [0, 60], (x, y) => y >= PLOT_ROWS[0] && bright(x, y));
    expect(labels.length).toBeGreaterThanOrEqual(8);
    expect(labels.length).toBeLessThanOrEqual(40);
    expect(Math.max(...labels)).toBeLessThanOrEqual(22);
  });

  it.each<[string, Partial<GridLadderChartInput>, RegExp]>([
    ['a NaN price', { price: Number.NaN }, /price must be a finite number, got NaN/],
    [
      'lines not increasing',
      { lines: [100, 120, 110] },
      /strictly increasing: line 2 \(110\) <= line 1 \(120\)/,
    ],
    ['repeated lines', { lines: [100, 100] }, /strictly increasing: line 1/],
    ['a single line', { lines: [100] }, /at least 2 lines, got 1/],
    ['a NaN stop-loss', { stopLoss: Number.NaN }, /stop-loss must be a finite number/],
    ['a negative buy', { buys: [-1] }, /buy order 0 must be above 0, got -1/],
  ])('refuses %s', (_, bad, message) => {
    const input = { ...ladder(3), ...bad };
    expect(() => renderGridLadderChart(input)).toThrow(ChartInputError);
    expect(() => renderGridLadderChart(input)).toThrow(message);
  });
});

describe('PNG encoder', () => {
  it('writes a PNG that a decoder reads back pixel for pixel', async () => {
    // 3x2, odd width so a row is not a multiple of 8 bytes; the colours are the theme's, opaque as a chart is.
    const colours = [
      CHART_THEME.background,
      CHART_THEME.profit,
      CHART_THEME.loss,
      CHART_THEME.accent,
      CHART_THEME.text,
      CHART_THEME.equity,
    ];
    const rgba = Uint8Array.from(
      colours.flatMap((hex) => {
        const n = Number.parseInt(hex.slice(1), 16);
        return [n >> 16, (n >> 8) & 0xff, n & 0xff, 255];
      }),
    );
    const p = await pixels(encodePng(3, 2, rgba));
    expect(p).toMatchObject({ width: 3, height: 2 });
    const read = colours.map((_, i) => colours.find((hex) => isColour(p, i % 3, Math.floor(i / 3), hex)));
    expect(read).toEqual(colours);
  });

  it('refuses pixels that do not match the size', () => {
    expect(() => encodePng(3, 2, new Uint8Array(20))).toThrow(/20 bytes for 3x2 RGBA/);
  });
});
