import { describe, expect, it } from 'vitest';
import { tradingListing } from '../../../src/app/bootstrap-grids.js';
import type { GridSummary } from '../../../src/app/grid-service.js';

const base: GridSummary = {
  id: 'g1',
  name: 'btc',
  symbol: 'BTCUSDT',
  status: 'running',
  stopReason: null,
  mode: 'arithmetic',
  lower: '95000',
  upper: '105000',
  grids: 20,
  investment: '2000',
  stopLoss: null,
  takeProfit: null,
  demo: false,
  openOrders: 20,
  baseQty: '0',
  quoteBalance: '2000',
  realizedPnl: '0',
  fees: '0',
  unrealizedPnl: null,
  lastPrice: null,
  createdAt: '2026-01-01T00:00:00.000Z',
};

const quoteOf = (symbol: string) =>
  symbol.endsWith('USDT') ? 'USDT' : symbol.endsWith('BTC') ? 'BTC' : undefined;

// The start-up listing is what an operator reads before real money trades: what trades, for how much, in which money.
describe('the start-up listing', () => {
  it('lists the grids that trade with their investment and the total per quote, then those waiting for a human', () => {
    const lines = tradingListing(
      [
        base,
        { ...base, id: 'g2', name: 'eth', symbol: 'ETHUSDT', investment: '1000.5' },
        { ...base, id: 'g3', name: 'ethbtc', symbol: 'ETHBTC', investment: '0.25' },
        { ...base, id: 'g4', name: 'sol', symbol: 'SOLUSDT', status: 'paused', investment: '700' },
        { ...base, id: 'g5', name: 'new', status: 'created', investment: '300' },
        { ...base, id: 'g6', name: 'old', status: 'stopped', investment: '9999' },
        { ...base, id: 'g7', name: 'dip', status: 'waiting', investment: '500' },
      ],
      'REAL MONEY on api.bybit.com',
      quoteOf,
    );
    expect(lines).toEqual([
      'REAL MONEY on api.bybit.com: 4 grids trading, 3500.5 USDT + 0.25 BTC at stake',
      'REAL MONEY on api.bybit.com: grid g1 btc BTCUSDT running, 20 lines 95000-105000, 2000 USDT invested',
      'REAL MONEY on api.bybit.com: grid g2 eth ETHUSDT running, 20 lines 95000-105000, 1000.5 USDT invested',
      'REAL MONEY on api.bybit.com: grid g3 ethbtc ETHBTC running, 20 lines 95000-105000, 0.25 BTC invested',
      // Protects: a grid waiting for its trigger starts trading by itself, so its money is counted and named as at stake.
      'REAL MONEY on api.bybit.com: grid g7 dip BTCUSDT waiting, 20 lines 95000-105000, 500 USDT invested: starts trading by itself when the price reaches its trigger',
      'REAL MONEY on api.bybit.com: grid g4 sol SOLUSDT paused, 700 USDT invested: no order until it is resumed',
      'REAL MONEY on api.bybit.com: grid g5 new BTCUSDT created, 300 USDT invested: no order until it is started',
    ]);
  });

  it('says so when nothing trades', () => {
    expect(tradingListing([], 'test money on api-testnet.bybit.com', quoteOf)).toEqual([
      'test money on api-testnet.bybit.com: no grid is trading',
    ]);
  });
});
