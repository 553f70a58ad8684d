import { allocateCandles, type CandleSeries, sliceCandles } from '../engine/candles.js';
import { PRICE_DECIMALS } from '../engine/money.js';

export const CANDLE_CSV_HEADER = 'open_time_ms,open,high,low,close,volume';

export class CandleFormatError extends Error {
  override readonly name = 'CandleFormatError';
}

const COMMA = 44;
const LF = 10;
const CR = 13;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/**
 * Parses the candle CSV of ../shared/data (header `open_time_ms,open,high,low,close,volume`, one row per candle,
 * times strictly increasing) straight from bytes into price units. A hand-written scanner, because a year of 1-minute
 * candles is 35 MB of text and the backtester must finish in well under a second: it reads each byte once, allocates
 * nothing per row, and converts each price exactly (integer digits and up to 8 decimals, no float parsing).
 * Every malformed row is an error that names the source, the line and the problem.
 */
export function parseCandlesCsv(bytes: Uint8Array, source: string): CandleSeries {
  const headerEnd = bytes.indexOf(LF);
  const header = new TextDecoder()
    .decode(bytes.subarray(0, headerEnd < 0 ? bytes.length : headerEnd))
    .trimEnd();
  if (header !== CANDLE_CSV_HEADER) {
    throw new CandleFormatError(
      `${source}: the first line must be "${CANDLE_CSV_HEADER}", got "${header.slice(0, 80)}"`,
    );
  }
  let rows = 0;
  for (let at = bytes.indexOf(LF, headerEnd + 1); at >= 0; at = bytes.indexOf(LF, at + 1)) rows++;
  if (bytes.length > 0 && bytes[bytes.length - 1] !== LF) rows++; // a last row without a newline
  const out = allocateCandles(rows);
  const { openTimeMs, open, high, low, close } = out;
  const fields = new Float64Array(6);
  let pos = headerEnd < 0 ? bytes.length : headerEnd + 1;
  let line = 1;
  let n = 0;
  const end = bytes.length;
  while (pos < end) {
    line++;
    // A blank line (the final newline, or \r\n) ends nothing and holds nothing.
    if (bytes[pos] === LF || (bytes[pos] === CR && bytes[pos + 1] === LF)) {
      pos += bytes[pos] === CR ? 2 : 1;
      continue;
    }
    for (let f = 0; f < 6; f++) {
      let intPart = 0;
      let frac = 0;
      let fracDigits = 0;
      let digits = 0;
      let seenDot = false;
      let c = bytes[pos];
      while (pos < end && c !== COMMA && c !== LF && c !== CR) {
        if (c! >= ZERO && c! <= NINE) {
          if (seenDot) {
            if (++fracDigits > PRICE_DECIMALS)
              fail(source, line, `field ${f + 1} has more than ${PRICE_DECIMALS} decimals`);
            frac = frac * 10 + (c! - ZERO);
          } else {
            intPart = intPart * 10 + (c! - ZERO);
            digits++;
          }
        } else if (c === DOT && !seenDot && f > 0) {
          seenDot = true;
        } else {
          fail(source, line, `field ${f + 1} is not a plain non-negative number`);
        }
        c = bytes[++pos];
      }
      if (digits === 0 || (seenDot && fracDigits === 0)) fail(source, line, `field ${f + 1} is not a number`);
      if (f === 5) {
        fields[f] = 0; // volume: checked for form only, unused by the grid
      } else if (f === 0) {
        fields[f] = intPart;
      } else {
        const units = intPart * POW10[PRICE_DECIMALS]! + frac * POW10[PRICE_DECIMALS - fracDigits]!;
        if (!Number.isSafeInteger(units)) fail(source, line, `field ${f + 1} is too large`);
        fields[f] = units;
      }
      if (f < 5) {
        if (c !== COMMA) fail(source, line, `expected 6 comma-separated fields, got ${f + 1}`);
        pos++;
      } else if (c === COMMA) {
        fail(source, line, 'expected 6 comma-separated fields, got more');
      }
    }
    if (bytes[pos] === CR) pos++;
    if (pos < end) pos++; // the newline
    const t = fields[0]!;
    const o = fields[1]!;
    const h = fields[2]!;
    const l = fields[3]!;
    const cl = fields[4]!;
    if (o <= 0 || h <= 0 || l <= 0 || cl <= 0) fail(source, line, 'prices must be above 0');
    if (h < o || h < cl || h < l || l > o || l > cl)
      fail(source, line, 'high/low do not enclose open and close');
    if (n > 0 && t <= openTimeMs[n - 1]!) fail(source, line, 'open_time_ms must increase from row to row');
    openTimeMs[n] = t;
    open[n] = o;
    high[n] = h;
    low[n] = l;
    close[n] = cl;
    n++;
  }
  if (n === 0) throw new CandleFormatError(`${source}: no candles after the header`);
  return n === rows ? out : sliceCandles(out, 0, n);
}

function fail(source: string, line: number, problem: string): never {
  throw new CandleFormatError(`${source} line ${line}: ${problem}`);
}
