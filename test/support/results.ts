import { expect } from 'vitest';
import type { BacktestResult } from '../../src/engine/backtest/result.js';

/** Every figure equal, exactly; the drawdown (a double-precision ratio) to 1e-9 relative. */
export function expectSameResult(actual: BacktestResult, expected: BacktestResult): void {
  const { maxDrawdownPct: a, ...restActual } = actual;
  const { maxDrawdownPct: b, ...restExpected } = expected;
  expect(restActual).toEqual(restExpected);
  expect(Math.abs(a - b)).toBeLessThanOrEqual(Math.max(Math.abs(a), Math.abs(b)) * 1e-9 + 1e-12);
}
