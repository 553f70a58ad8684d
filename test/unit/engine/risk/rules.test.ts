import { describe, expect, it } from 'vitest';
import {
  clearsByItself,
  type PreTradeContext,
  type PreTradeLimits,
  preTradeCheck,
} from '../../../../src/engine/risk/pre-trade.js';
import {
  changePct,
  checkPrice,
  drawdown,
  errorRate,
  volatility,
  volatilityLevel,
} from '../../../../src/engine/risk/rules.js';

describe('drawdown', () => {
  const limits = { warnPct: '15', killPct: '30' };
  it('tracks the running peak and warns at 15 %, kills at 30 %', () => {
    expect(drawdown(null, '1000', limits)).toEqual({
      peak: '1000',
      equity: '1000',
      drawdownPct: '0',
      level: 'ok',
    });
    expect(drawdown('1000', '1100', limits)).toMatchObject({ peak: '1100', level: 'ok' });
    expect(drawdown('1100', '935', limits)).toMatchObject({ drawdownPct: '15', level: 'warn' }); // 165 / 1100
    expect(drawdown('1100', '770.01', limits)).toMatchObject({ drawdownPct: '29.9991', level: 'warn' });
    expect(drawdown('1100', '770', limits)).toMatchObject({ drawdownPct: '30', level: 'kill' });
  });
});

describe('exchange error rate', () => {
  const limits = { killPct: '2', minCalls: 20 };
  it('says nothing below the minimum number of calls, and kills at 2 %', () => {
    expect(errorRate(10, 5, limits)).toMatchObject({
      level: 'ok',
      ratePct: '50',
      note: expect.stringMatching(/only 10 calls/),
    });
    expect(errorRate(100, 1, limits)).toMatchObject({ level: 'ok', ratePct: '1' });
    expect(errorRate(100, 2, limits)).toMatchObject({ level: 'kill', ratePct: '2' });
    expect(errorRate(0, 0, limits).level).toBe('ok');
  });
});

describe('volatility breaker', () => {
  const limits = { window: 10, maxDeviationPct: '5' };
  const calm = ['100', '101', '99', '100', '102', '98', '100', '101', '99', '100'];
  it('trips when a price of the last ten is more than 5 % from their average', () => {
    expect(volatility('ETHUSDT', calm, limits)).toMatchObject({
      average: '100',
      maxDeviationPct: '2',
      tripped: false,
    });
    // Average of nine 100s and one 112 is 101.2; 112 is 10.8 from it: 10.6719 %.
    const spike = [...Array(9).fill('100'), '112'];
    expect(volatility('ETHUSDT', spike, limits)).toMatchObject({
      average: '101.2',
      maxDeviationPct: '10.6719',
      tripped: true,
    });
    expect(volatility('ETHUSDT', calm.slice(0, 5), limits).tripped).toBe(false); // too few prices to judge
  });
  it('two symbols tripped at once kill; one warns', () => {
    const t = { symbol: 'A', average: '1', maxDeviationPct: '9', tripped: true };
    const f = { ...t, symbol: 'B', tripped: false };
    expect(volatilityLevel([t, f])).toBe('warn');
    expect(volatilityLevel([t, { ...t, symbol: 'C' }])).toBe('kill');
    expect(volatilityLevel([f])).toBe('ok');
  });
});

describe('price deviation', () => {
  const limits = { maxJumpPct: '3', maxSourceGapPct: '1' };
  it('holds a jump until a second price confirms it, and a price the other source disputes', () => {
    expect(checkPrice('100', '102', limits)).toEqual({ kind: 'accept' });
    expect(checkPrice('100', '110', limits)).toEqual({ kind: 'hold', reason: 'jump', pct: '10' });
    expect(checkPrice('100', '110', limits, null, '109.5')).toEqual({ kind: 'accept' });
    expect(checkPrice('100', '101', limits, '99')).toEqual({
      kind: 'hold',
      reason: 'sources-disagree',
      pct: '2.0202',
    });
  });
  it('measures BTC over the lookback', () => {
    expect(changePct('100000', '96500')).toBe('-3.5');
  });
});

describe('pre-trade checks', () => {
  const limits: PreTradeLimits = {
    maxPriceDistancePct: '10',
    btcFilterDropPct: '3',
    maxOpenOrdersPerSymbol: 60,
    maxOpenOrdersTotal: 500,
    maxPositionQuotePerSymbol: '5000',
  };
  const ctx: PreTradeContext = {
    killed: false,
    gridRunning: true,
    lastPrice: '100',
    stopLoss: '80',
    volatilityTripped: false,
    btcChangePct: '-1',
    openOrdersOnSymbol: 10,
    openOrdersTotal: 100,
    positionQuote: '1000',
    freeBalance: '500',
  };
  const buy = { symbol: 'SOLUSDT', side: 'buy', purpose: 'grid', price: '95', qty: '1' } as const;
  const reason = (over: Partial<PreTradeContext>, order: Partial<typeof buy> | object = {}) => {
    const v = preTradeCheck({ ...buy, ...order } as typeof buy, { ...ctx, ...over }, limits);
    return v.ok ? 'ok' : `${v.reason}: ${v.message}`;
  };
  it('lets an ordinary grid order through', () => {
    expect(reason({})).toBe('ok');
  });
  it('refuses each kind of dangerous order, naming the figures', () => {
    expect(reason({ killed: true })).toBe('killed: the kill switch is on');
    expect(reason({ gridRunning: false })).toMatch(/^grid-not-running/);
    expect(reason({ lastPrice: null })).toBe('no-price: no price for SOLUSDT yet');
    expect(reason({}, { price: '115' })).toBe(
      'price-too-far: buy at 115 is 15 % from the last price 100 (limit 10 %)',
    );
    expect(reason({}, { side: 'sell', price: '85' })).toBe(
      'price-too-far: sell at 85 is 15 % from the last price 100 (limit 10 %)',
    );
    // Far on the passive side is where a grid's outer lines rest: allowed.
    expect(reason({ stopLoss: null }, { price: '70' })).toBe('ok');
    expect(reason({ stopLoss: '95' })).toBe('below-stop-loss: buy at 95 is at or below the stop-loss 95');
    expect(reason({ volatilityTripped: true })).toBe(
      'volatility-breaker: the volatility breaker on SOLUSDT is tripped',
    );
    expect(reason({ btcChangePct: '-3.5' })).toBe(
      'btc-filter: BTC is down 3.5 % (more than 3 %): no new altcoin buys',
    );
    expect(reason({ positionQuote: '4950' })).toBe(
      'position-limit: SOLUSDT position 4950 + 95 would pass the limit 5000',
    );
    expect(reason({ openOrdersOnSymbol: 60 })).toBe(
      'too-many-orders-on-symbol: SOLUSDT has 60 open orders (limit 60)',
    );
    expect(reason({ openOrdersTotal: 500 })).toBe('too-many-orders: 500 orders are open (limit 500)');
    expect(reason({ freeBalance: '94.99' })).toBe('insufficient-balance: quote needed 95, free 94.99');
  });
  it('lets a sell that reduces risk through the buy-only rules', () => {
    const sell = { side: 'sell', price: '105' };
    expect(
      reason({ volatilityTripped: true, btcChangePct: '-9', positionQuote: '99999', freeBalance: '1' }, sell),
    ).toBe('ok');
    expect(reason({ killed: true }, sell)).toBe('killed: the kill switch is on');
  });
  // Protects the re-judge of held orders: with the balance not read (null) every other rule still speaks, and the
  // balance rule stays silent, so a breaker holding orders costs no balance read (a REST call on Bybit) per price.
  it('judges everything but the balance when the balance was not read', () => {
    expect(reason({ freeBalance: null })).toBe('ok');
    expect(reason({ freeBalance: null, volatilityTripped: true })).toMatch(/^volatility-breaker/);
    expect(reason({ freeBalance: null }, { price: '115' })).toMatch(/^price-too-far/);
  });
  // Protects which refusals hold an order (placed by itself once the rule clears) and which close it: the kill switch,
  // a grid not running, the stop-loss and the limits must never release an order on their own.
  it('holds what clears by itself: the breaker, the BTC filter, the fat finger, the free balance', () => {
    expect(
      (
        [
          'killed',
          'grid-not-running',
          'no-price',
          'price-too-far',
          'below-stop-loss',
          'volatility-breaker',
          'btc-filter',
          'too-many-orders-on-symbol',
          'too-many-orders',
          'position-limit',
          'insufficient-balance',
        ] as const
      ).filter(clearsByItself),
    ).toEqual(['price-too-far', 'volatility-breaker', 'btc-filter', 'insufficient-balance']);
  });
  it('lets an exit (a market sell of what a stopped grid holds) through the kill switch, and nothing else', () => {
    const exit = { side: 'sell', purpose: 'exit', price: null, qty: '2' };
    expect(reason({ killed: true, gridRunning: false, freeBalance: '2' }, exit)).toBe('ok');
    expect(reason({ killed: true, gridRunning: false, freeBalance: '1.5' }, exit)).toBe(
      'insufficient-balance: base needed 2, free 1.5',
    );
    expect(reason({ killed: true }, { purpose: 'start', price: null })).toBe('killed: the kill switch is on');
    expect(reason({ gridRunning: false }, { side: 'sell', price: null })).toMatch(/^grid-not-running/);
  });
});
