import { Decimal } from 'decimal.js';

/**
 * Money is exact. Inside the engine a price is an integer count of PRICE_UNIT (1e-8 quote), a quantity an integer
 * count of the instrument's quantity step ("lots"). Both stay below 2^53, so plain numbers hold them exactly and
 * compare fast. Sums of money (balances, fees, profit) are computed with decimal.js and leave as decimal strings.
 */
export const PRICE_DECIMALS = 8;
const PRICE_SCALE = 10 ** PRICE_DECIMALS;

/** Decimal with enough digits that every product and sum the engine forms is exact (no division is rounded silently). */
export const Dec = Decimal.clone({
  precision: 80,
  rounding: Decimal.ROUND_HALF_UP,
  toExpNeg: -60,
  toExpPos: 60,
});
export type Dec = Decimal;
export type DecimalValue = Decimal | string | number;

const DECIMAL_TEXT = /^(?:0|[1-9]\d*)(?:\.\d+)?$/;

export class MoneyError extends Error {
  override readonly name = 'MoneyError';
}

/** Parses a non-negative plain decimal ("97250.1"; no sign, exponent or spaces). */
export function parseDecimal(text: string, what: string): Decimal {
  if (!DECIMAL_TEXT.test(text))
    throw new MoneyError(`${what} must be a plain non-negative decimal, got "${text}"`);
  return new Dec(text);
}

/** The shortest exact decimal string: no exponent, no trailing zeros. */
export function decText(value: DecimalValue): string {
  const d = new Dec(value);
  return d.isZero() ? '0' : d.toFixed();
}

/** Exact price in price units; refuses more than 8 decimals or a price too large for exact integers. */
export function toPriceUnits(value: DecimalValue, what = 'price'): number {
  const scaled = new Dec(value).times(PRICE_SCALE);
  if (!scaled.isInteger())
    throw new MoneyError(`${what} ${decText(value)} has more than ${PRICE_DECIMALS} decimals`);
  const n = scaled.toNumber();
  if (!Number.isSafeInteger(n) || n < 0) throw new MoneyError(`${what} ${decText(value)} is out of range`);
  return n;
}

export function priceText(units: number): string {
  return decText(new Dec(units).div(PRICE_SCALE));
}

export function priceDec(units: number): Decimal {
  return new Dec(units).div(PRICE_SCALE);
}

/** Round half up to a multiple of step. */
export function roundToStep(value: Decimal, step: Decimal): Decimal {
  return value.div(step).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).times(step);
}

/** Quantities are floored: rounding a quantity up could spend more than the grid was given. */
export function floorToStep(value: Decimal, step: Decimal): Decimal {
  return value.div(step).floor().times(step);
}

export function isMultipleOf(value: Decimal, step: Decimal): boolean {
  return value.mod(step).isZero();
}
