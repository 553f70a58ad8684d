import { performance } from 'node:perf_hooks';
import { renderGridLadderChart } from '../src/charts/ladder.js';
import { renderPnlChart } from '../src/charts/pnl.js';
import { renderProfitPerGridChart } from '../src/charts/profit-per-grid.js';
import { percentile, report, seededRandom } from './support.js';

const RUNS = 50;
const WARM_UP = 5;

function pnlMonth() {
  const rnd = seededRandom(20250601);
  const t0 = Date.UTC(2025, 5, 1);
  let equity = 10_000;
  let profit = 0;
  const points = Array.from({ length: 30 * 24 }, (_, i) => {
    equity += (rnd() - 0.49) * 40;
    if (rnd() < 0.3) profit += rnd() * 5;
    return { timeMs: t0 + i * 3_600_000, equity, cumulativeProfit: profit };
  });
  return { title: 'BTCUSDT grid: June 2025', points, currency: 'USDT' };
}

function perGrid() {
  const rnd = seededRandom(20);
  const grids = Array.from({ length: 20 }, (_, i) => ({
    label: `BTCUSDT #${i + 1}`,
    realized: (rnd() - 0.2) * 300,
    unrealized: (rnd() - 0.5) * 400,
  }));
  return { title: 'Profit per grid', grids, currency: 'USDT' };
}

function ladder() {
  const lines = Array.from({ length: 100 }, (_, i) => 80_000 + i * 400);
  const price = 99_950;
  return {
    symbol: 'BTCUSDT',
    lines,
    price,
    buys: lines.filter((p) => p < price - 400),
    sells: lines.filter((p) => p > price),
    stopLoss: 76_000,
    takeProfit: 125_000,
  };
}

/**
 * Wall time of one render, PNG encoding included: what a chat command waits for before it can send the image. CPU
 * time (all threads, so GC counts) beside it: the bench shares the machine, and a wall-time p99 far above the CPU
 * time is waiting for a core, not drawing.
 */
function time(render: () => Buffer): { mean: number; p99: number; cpu: number; bytes: number } {
  let bytes = 0;
  for (let i = 0; i < WARM_UP; i++) bytes = render().length;
  const ms: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    render();
    ms.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    mean: ms.reduce((a, b) => a + b, 0) / ms.length,
    p99: percentile(ms, 99),
    cpu: (cpu.user + cpu.system) / 1000 / RUNS,
    bytes,
  };
}

export function benchCharts(): void {
  console.log(
    `\n# Charts: PNG render time, ${RUNS} renders each after ${WARM_UP} warm-up (p99 of 50 is the slowest)`,
  );
  const [pnl, grids, ladderInput] = [pnlMonth(), perGrid(), ladder()];
  const kinds: [string, () => Buffer][] = [
    ['P/L, a month of hourly points (1000x560)', () => renderPnlChart(pnl)],
    ['profit per grid, 20 grids (1000x770)', () => renderProfitPerGridChart(grids)],
    ['grid ladder, 100 lines, SL and TP (1000x1400)', () => renderGridLadderChart(ladderInput)],
  ];
  for (const [label, render] of kinds) {
    const r = time(render);
    report(
      label,
      `mean ${r.mean.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`,
      `(target ≤ 100 ms per chart; CPU ${r.cpu.toFixed(1)} ms/chart, all threads; ${(r.bytes / 1024).toFixed(0)} KiB PNG)`,
    );
  }
}
