import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { SHARED_DATA } from '../support/candles.js';
import { inspectPng } from '../support/png.js';

const run = promisify(execFile);
const CLI = 'dist/src/cli/backtest.js';
const BTC_JUNE = `${SHARED_DATA}BTCUSDT-1m-2025-06.csv.gz`;
const GRID = ['--lower', '100000', '--upper', '112000', '--grids', '50', '--investment', '10000'];
const dir = mkdtempSync(join(tmpdir(), 'gridops-backtest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function backtest(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('backtest CLI', () => {
  it('prints exactly one JSON object with every figure, money as decimal strings', async () => {
    const { code, stdout, stderr } = await backtest(['--data', BTC_JUNE, ...GRID, '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const r = JSON.parse(stdout);
    for (const key of [
      'qtyPerGrid',
      'baseQty',
      'quoteBalance',
      'fees',
      'gridProfit',
      'netProfit',
      'equity',
    ]) {
      expect(r[key], key).toMatch(/^-?\d+(\.\d+)?$/);
    }
    expect(r).toMatchObject({
      candles: 43200,
      startPrice: '104591.88',
      endPrice: '107146.5',
      qtyPerGrid: '0.001912',
      buyFeeIn: 'quote',
    });
    expect(r.levels).toHaveLength(51);
    expect(r.buys).toBeGreaterThan(500);
    expect(r.sells).toBeGreaterThan(500);
    expect(typeof r.maxDrawdownPct).toBe('number');
  });

  it('runs through the documented npm script and prints a readable summary', async () => {
    const { stdout } = await run('npm', ['run', '--silent', 'backtest', '--', '--data', BTC_JUNE, ...GRID]);
    expect(stdout).toMatch(/Grid backtest: 50 arithmetic grids from 100000 to 112000/);
    expect(stdout).toMatch(/grid profit\s+\d+\.\d+/);
    expect(stdout).toMatch(/max drawdown\s+\d+\.\d\d%/);
  });

  it('reads a plain CSV as well as a gzipped one, with stop-loss and take-profit', async () => {
    const file = join(dir, 'plain.csv');
    writeFileSync(
      file,
      'open_time_ms,open,high,low,close,volume\n0,160,165,105,108,1\n60000,108,300,100,200,1\n',
    );
    const { code, stdout } = await backtest([
      '--data',
      file,
      '--lower',
      '100',
      '--upper',
      '200',
      '--grids',
      '4',
      '--investment',
      '1000',
      '--tick',
      '1',
      '--qty-step',
      '0.01',
      '--min-qty',
      '0.01',
      '--stop-loss',
      '110',
      '--take-profit',
      '250',
      '--json',
    ]);
    expect(code).toBe(0);
    // The hand-worked stop-loss case of test/unit/engine/backtest-hand-worked.test.ts.
    expect(JSON.parse(stdout)).toMatchObject({ gridProfit: '-179.4', fees: '1.209', equity: '819.391' });
  });

  it('--buy-fee-in base takes buy fees out of the base coin, as Bybit spot does', async () => {
    // Protects the flag end to end: the hand-worked base-fee stop-loss case of backtest-hand-worked.test.ts (the
    // cells sell what their buys delivered; 0.01532 of dust stays in base and in equity).
    const file = join(dir, 'base-fee.csv');
    writeFileSync(
      file,
      'open_time_ms,open,high,low,close,volume\n0,160,165,105,108,1\n60000,108,300,100,200,1\n',
    );
    const hand = ['--data', file, '--lower', '100', '--upper', '200', '--grids', '4', '--investment', '1000'];
    const filters = ['--tick', '1', '--qty-step', '0.01', '--min-qty', '0.01', '--stop-loss', '110'];
    const json = await backtest([...hand, ...filters, '--buy-fee-in', 'base', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      buyFeeIn: 'base',
      gridProfit: '-178.75',
      fees: '1.2068',
      quoteBalance: '817.8874',
      baseQty: '0.01532',
      equity: '820.9514',
    });
    const text = await backtest([...hand, ...filters, '--buy-fee-in', 'base']);
    expect(text.stdout).toMatch(/final balances\s+817\.8874 quote \+ 0\.01532 base/);
    expect(text.stdout).toMatch(/buy fees\s+in base/);
    // The default is unchanged: fees in quote, the figures of the engine issue.
    const quote = await backtest([...hand, ...filters, '--json']);
    expect(JSON.parse(quote.stdout)).toMatchObject({ buyFeeIn: 'quote', equity: '819.391' });
  });

  it('--trailing-up, --trailing-cap and --trigger: the hand-worked cases, with their JSON fields and summary lines', async () => {
    // The hand-worked cases of test/unit/engine/backtest-hand-worked.test.ts ("trailing up", "trigger price").
    const csv = (name: string, rows: string[]) => {
      const file = join(dir, name);
      writeFileSync(
        file,
        `open_time_ms,open,high,low,close,volume\n${rows.map((r, i) => `${i * 60000},${r},1`).join('\n')}\n`,
      );
      return file;
    };
    const hand = ['--lower', '100', '--upper', '200', '--grids', '4', '--investment', '1000'];
    const filters = ['--tick', '1', '--qty-step', '0.01', '--min-qty', '0.01'];
    const shift = csv('shift.csv', ['160,230,160,230', '230,230,170,215']);
    const trailing = await backtest(['--data', shift, ...hand, ...filters, '--trailing-up', '--json']);
    expect(trailing.code).toBe(0);
    expect(JSON.parse(trailing.stdout)).toMatchObject({
      trailingShifts: 1,
      finalLower: '125',
      finalUpper: '225',
      levels: ['100', '125', '150', '175', '200'],
      gridProfit: '124.8',
      fees: '1.8252',
      equity: '1134.6748',
      triggeredAtMs: null,
    });
    const text = await backtest(['--data', shift, ...hand, ...filters, '--trailing-up']);
    expect(text.stdout).toMatch(/trailing up\s+1 shift, ending at 125 to 225/);
    const several = csv('several.csv', ['160,290,160,290', '290,290,215,280']);
    const capped = await backtest([
      ...['--data', several, ...hand, ...filters],
      ...['--trailing-up', '--trailing-cap', '260', '--json'],
    ]);
    expect(JSON.parse(capped.stdout)).toMatchObject({
      trailingShifts: 2,
      finalUpper: '250',
      equity: '1105.8073',
    });
    // Without the flags the same file trades the fixed grid: no trailing line in the summary.
    const fixed = await backtest(['--data', several, ...hand, ...filters]);
    expect(fixed.stdout).not.toMatch(/trailing|trigger/);
    const above = csv('above.csv', ['180,185,170,172', '172,176,120,130', '130,135,110,112']);
    const triggered = await backtest(['--data', above, ...hand, ...filters, '--trigger', '150', '--json']);
    expect(JSON.parse(triggered.stdout)).toMatchObject({
      triggeredAtMs: 60000,
      startPrice: '150',
      startBuyQty: '3.32',
      fees: '0.7055',
      equity: '851.5545',
    });
    const never = await backtest(['--data', above, ...hand, ...filters, '--trigger', '100', '--json']);
    expect(JSON.parse(never.stdout)).toMatchObject({
      triggeredAtMs: null,
      buys: 0,
      sells: 0,
      fees: '0',
      equity: '1000',
    });
    const neverText = await backtest(['--data', above, ...hand, ...filters, '--trigger', '100']);
    expect(neverText.stdout).toMatch(/trigger\s+100 never reached: the investment was not touched/);
  });

  it('reports the new fields for a grid without trailing or trigger: the fixed window, no trigger', async () => {
    const { stdout } = await backtest(['--data', BTC_JUNE, ...GRID, '--json']);
    expect(JSON.parse(stdout)).toMatchObject({
      trailingShifts: 0,
      finalLower: '100000',
      finalUpper: '112000',
      triggeredAtMs: null,
    });
  });

  it('draws equity and grid profit as a PNG chart', async () => {
    const out = join(dir, 'chart.png');
    const { code } = await backtest(['--data', BTC_JUNE, ...GRID, '--chart', out]);
    expect(code).toBe(0);
    const png = await inspectPng(readFileSync(out));
    expect(png).toMatchObject({ width: 1000, height: 560 });
    expect(png.colours).toBeGreaterThan(50);
  });

  const malformed = join(dir, 'bad.csv');
  writeFileSync(malformed, 'open_time_ms,open,high,low,close,volume\n0,1,2,0.5,1,1\n60000,1,2,oops,1,1\n');
  const bad: [string, string[], RegExp][] = [
    [
      'a missing file',
      ['--data', join(dir, 'nope.csv.gz'), ...GRID],
      /cannot read .*nope\.csv\.gz: no such file/,
    ],
    [
      'a malformed row',
      ['--data', malformed, ...GRID],
      /bad\.csv line 3: field 4 is not a plain non-negative number/,
    ],
    [
      'lower above upper',
      [
        '--data',
        BTC_JUNE,
        '--lower',
        '112000',
        '--upper',
        '100000',
        '--grids',
        '50',
        '--investment',
        '10000',
      ],
      /lower 112000 must be below upper 100000/,
    ],
    [
      'too many grids',
      [
        '--data',
        BTC_JUNE,
        '--lower',
        '100000',
        '--upper',
        '112000',
        '--grids',
        '501',
        '--investment',
        '10000',
      ],
      /--grids must be from 2 to 500/,
    ],
    [
      'a quantity below the minimum',
      ['--data', BTC_JUNE, '--lower', '100000', '--upper', '112000', '--grids', '50', '--investment', '100'],
      /quantity per grid 0\.000019 .* is below the minimum quantity 0\.000048/,
    ],
    ['a missing argument', ['--data', BTC_JUNE, '--lower', '1'], /--upper is required/],
    [
      'a number that is not one',
      ['--data', BTC_JUNE, ...GRID, '--fee', '1e-3'],
      /--fee must be a plain non-negative decimal/,
    ],
    ['an unknown flag', ['--data', BTC_JUNE, ...GRID, '--leverage', '10'], /Unknown option '--leverage'/],
    [
      'a fee coin that is neither quote nor base',
      ['--data', BTC_JUNE, ...GRID, '--buy-fee-in', 'usdt'],
      /--buy-fee-in must be quote or base, got "usdt"/,
    ],
    [
      'a trailing cap without trailing up',
      ['--data', BTC_JUNE, ...GRID, '--trailing-cap', '120000'],
      /trailing cap 120000 given without trailing up/,
    ],
    [
      'a trailing cap not above upper',
      ['--data', BTC_JUNE, ...GRID, '--trailing-up', '--trailing-cap', '112000'],
      /trailing cap 112000 must be above upper 112000/,
    ],
    [
      'a trigger that is not a number',
      ['--data', BTC_JUNE, ...GRID, '--trigger', 'soon'],
      /--trigger must be a plain non-negative decimal such as 97250.5, got "soon"/,
    ],
    [
      'a stop-loss above the trigger',
      ['--data', BTC_JUNE, ...GRID, '--trigger', '101000', '--stop-loss', '102000'],
      /stop-loss 102000 must be below the trigger price 101000/,
    ],
    ['a value given to --trailing-up', ['--data', BTC_JUNE, ...GRID, '--trailing-up=yes'], /--trailing-up/],
    [
      'a grid whose buys would leave nothing to sell once the fee is taken in base',
      [
        '--data',
        BTC_JUNE,
        ...['--lower', '100000', '--upper', '112000', '--grids', '50', '--investment', '5.3'],
        ...['--min-qty', '0.000001', '--min-value', '0.01', '--buy-fee-in', 'base'],
      ],
      /a grid buy of 0\.000001 less its fee \(0\.000000001\) leaves less than one quantity step/,
    ],
  ];
  for (const [what, args, message] of bad) {
    it(`ends with exit code 2 and one line naming ${what}`, async () => {
      const { code, stdout, stderr } = await backtest(args);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(message);
      expect(stderr).not.toMatch(/\n\s+at /);
    });
  }
});
