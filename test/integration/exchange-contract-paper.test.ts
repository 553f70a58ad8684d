import type { DataSource } from 'typeorm';
import { afterAll, beforeAll } from 'vitest';
import { ExchangeError, type MarketInstrument } from '../../src/exchange/exchange.js';
import { PaperExchange } from '../../src/exchange/paper/paper-exchange.js';
import { describeExchangeContract } from '../contract/exchange.contract.js';
import { migratedDatabase, type TestDatabase } from '../support/services.js';

/** Bybit's spot BTCUSDT filters, as BybitApi reads them from the fake (test/support/bybit.ts). */
const BTCUSDT: MarketInstrument = {
  symbol: 'BTCUSDT',
  baseAsset: 'BTC',
  quoteAsset: 'USDT',
  tickSize: '0.01',
  qtyStep: '0.000001',
  minQty: '0.000001',
  minValue: '5',
};

let db: TestDatabase;
let ds: DataSource;

beforeAll(async () => {
  ({ db, ds } = await migratedDatabase());
});
afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
});

// The paper exchange on a real Postgres: each test starts from an empty book and a funded account.
describeExchangeContract('paper', async () => {
  await ds.query(`TRUNCATE paper_execution, paper_order, paper_market, paper_balance`);
  const exchange = new PaperExchange(ds, {
    instruments: [BTCUSDT],
    makerFee: '0.001',
    takerFee: '0.001',
    openingQuoteBalance: '100000',
  });
  await exchange.open();
  // The account holds base too, for the sells (open() credits the quote only).
  await ds.query(`UPDATE paper_balance SET total = 1 WHERE asset = 'BTC'`);
  let seq = 0;
  const startPrice = '100000';
  await exchange.onPrice('BTCUSDT', ++seq, startPrice);
  return {
    exchange,
    symbol: 'BTCUSDT',
    baseAsset: 'BTC',
    quoteAsset: 'USDT',
    startPrice,
    makerFee: '0.001',
    cursor: 'after',
    // onPrice publishes the move's executions before it returns.
    movePrice: async (price) => {
      await exchange.onPrice('BTCUSDT', ++seq, price);
    },
    // The order is taken; its answer never reaches the caller (a crash or a lost connection on the way back).
    placeLosingAnswer: async (request) => {
      await exchange.placeOrder(request);
      throw new ExchangeError({ kind: 'ambiguous', cause: 'connection' }, 'the answer was lost');
    },
    close: async () => undefined,
  };
});
