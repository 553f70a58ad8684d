import { describe, expect, it } from 'vitest';
import { Backtests } from '../../../src/app/backtest.js';
import { type CandleQuery, CandlesUnavailable } from '../../../src/app/ports/candles.js';
import { backtest } from '../../../src/bot/commands/market.js';
import type { CommandContext } from '../../../src/bot/commands/types.js';
import { candles } from '../../support/candles.js';

const NOW = Date.UTC(2025, 5, 15);
const BTC = {
  symbol: 'BTCUSDT',
  baseAsset: 'BTC',
  quoteAsset: 'USDT',
  tickSize: '1',
  qtyStep: '0.01',
  minQty: '0.01',
  minValue: '1',
};

/** /backtest over candles held in memory (the store's own path is test/e2e/chat-telegram.test.ts's). */
function chat(
  series = candles([
    ['160', '165', '105', '108'],
    ['108', '300', '100', '200'],
  ]),
) {
  const asked: CandleQuery[] = [];
  const backtests = new Backtests({
    nowMs: () => NOW,
    instrument: (s) => (s === 'BTCUSDT' ? BTC : undefined),
    candles: {
      async load(q) {
        asked.push(q);
        if (q.kind === 'store' && q.fromMs < NOW - 10 * 86_400_000)
          throw new CandlesUnavailable('no BTCUSDT 1 candles stored; fetch them');
        return series;
      },
    },
  });
  const ctx = { deps: { backtests } } as unknown as CommandContext;
  return { asked, say: (text: string) => backtest.run(ctx, text.split(' ')) };
}
const EXAMPLE = ['Example: /backtest BTCUSDT 90000 110000 20 7'];

describe('/backtest in a chat', () => {
  it('runs on the last days of stored candles, per 1,000 invested, with the equity chart', async () => {
    const { asked, say } = chat();
    const r = await say('btcusdt 100 200 4 3');
    expect(asked).toEqual([
      { kind: 'store', symbol: 'BTCUSDT', interval: '1', fromMs: NOW - 3 * 86_400_000, toMs: NOW },
    ]);
    expect(r.title).toMatch(/^Backtest BTCUSDT, 3 days: net -?\d+(\.\d+)? \(-?\d+\.\d\d %\)$/);
    expect(r.lines[0]).toBe('2 one-minute candles, 160 → 200, 1000 invested');
    expect(r.lines[1]).toMatch(/^quantity per grid 1\.56; \d+ buys, \d+ sells$/);
    expect(r.image?.name).toBe('backtest-BTCUSDT.png');
    expect((await say('BTCUSDT 100 200 4')).title).toMatch(/^Backtest BTCUSDT, 7 days/);
  });

  it('answers each bad argument in one line with an example', async () => {
    const { say } = chat();
    const refused = async (text: string) => {
      const r = await say(text);
      expect(r.severity).toBe('error');
      return [r.title, ...r.lines];
    };
    expect(await refused('BTC/USDT 1 2 10')).toEqual(['symbol must look like BTCUSDT', ...EXAMPLE]);
    expect(await refused('BTCUSDT x 2 10')).toEqual(['lower must be a number', ...EXAMPLE]);
    expect(await refused('BTCUSDT 1 y 10')).toEqual(['upper must be a number', ...EXAMPLE]);
    expect(await refused('BTCUSDT 100 200 ten')).toEqual(['grids must be a whole number', ...EXAMPLE]);
    expect(await refused('BTCUSDT 100 200 501')).toEqual([
      'grid count must be a whole number from 2 to 500, got 501',
      ...EXAMPLE,
    ]);
    expect(await refused('BTCUSDT 100 200 4 0')).toEqual(['days must be from 1 to 365', ...EXAMPLE]);
    expect(await refused('BTCUSDT 100 200 4 x')).toEqual(['days must be a whole number', ...EXAMPLE]);
    expect(await refused('DOGEUSDT 1 2 10')).toEqual(['unknown symbol DOGEUSDT', ...EXAMPLE]);
    expect(await refused('BTCUSDT 200 100 4')).toEqual(['lower 200 must be below upper 100', ...EXAMPLE]);
    // Nothing stored: the store's words, which name the command that fetches the candles.
    expect(await refused('BTCUSDT 100 200 4 30')).toEqual(['no BTCUSDT 1 candles stored; fetch them']);
  });
});
