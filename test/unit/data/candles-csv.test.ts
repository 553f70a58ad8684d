import { describe, expect, it } from 'vitest';
import { CandleFormatError, parseCandlesCsv } from '../../../src/data/candles-csv.js';

const csv = (text: string) => new TextEncoder().encode(text);
const HEADER = 'open_time_ms,open,high,low,close,volume\n';

describe('candle CSV parser', () => {
  it('reads prices exactly into 1e-8 units, with or without decimals and a final newline', () => {
    const c = parseCandlesCsv(
      csv(
        `${HEADER}1747699200000,105600.01,105700,105500.5,105650.12345678,12.3\r\n1747699260000,1,2,0.5,1.5,0`,
      ),
      'x.csv',
    );
    expect(c.length).toBe(2);
    expect([...c.open]).toEqual([10560001000000, 100000000]);
    expect([...c.high]).toEqual([10570000000000, 200000000]);
    expect([...c.low]).toEqual([10550050000000, 50000000]);
    expect([...c.close]).toEqual([10565012345678, 150000000]);
    expect([...c.openTimeMs]).toEqual([1747699200000, 1747699260000]);
  });

  const bad: [string, string, RegExp][] = [
    [
      'a wrong header',
      'time,o,h,l,c,v\n1,1,1,1,1,1\n',
      /first line must be "open_time_ms,open,high,low,close,volume"/,
    ],
    ['a missing field', `${HEADER}1,1,1,1,1\n`, /x.csv line 2: expected 6 comma-separated fields, got 5/],
    ['an extra field', `${HEADER}1,1,1,1,1,1,1\n`, /line 2: expected 6 comma-separated fields, got more/],
    ['a word for a price', `${HEADER}1,1,abc,1,1,1\n`, /line 2: field 3 is not a plain non-negative number/],
    ['a negative price', `${HEADER}1,-1,1,1,1,1\n`, /line 2: field 2 is not a plain non-negative number/],
    ['an exponent', `${HEADER}1,1e3,1,1,1,1\n`, /line 2: field 2 is not a plain non-negative number/],
    ['an empty field', `${HEADER}1,,1,1,1,1\n`, /line 2: field 2 is not a number/],
    ['nine decimals', `${HEADER}1,1.123456789,2,1,1,1\n`, /line 2: field 2 has more than 8 decimals/],
    ['a high below the close', `${HEADER}1,1,2,1,3,1\n`, /line 2: high\/low do not enclose open and close/],
    ['a zero price', `${HEADER}1,0,1,0,1,1\n`, /line 2: prices must be above 0/],
    ['time going backwards', `${HEADER}2,1,1,1,1,1\n1,1,1,1,1,1\n`, /line 3: open_time_ms must increase/],
    ['no rows', HEADER, /x.csv: no candles after the header/],
  ];
  for (const [what, text, message] of bad) {
    it(`refuses ${what} with the line and the problem`, () => {
      expect(() => parseCandlesCsv(csv(text), 'x.csv')).toThrow(CandleFormatError);
      expect(() => parseCandlesCsv(csv(text), 'x.csv')).toThrow(message);
    });
  }
});
