import { setTimeout as sleep } from 'node:timers/promises';
import { BybitApi } from '../../src/exchange/bybit/api.js';
import { BybitExchange } from '../../src/exchange/bybit/bybit-exchange.js';
import { BybitExecutionFeed } from '../../src/exchange/bybit/live-feeds.js';
import { BybitRestClient } from '../../src/exchange/bybit/rest-client.js';
import { createLogger } from '../../src/log/logger.js';
import { describeExchangeContract } from '../contract/exchange.contract.js';
import { startBtcFake } from '../support/bybit.js';
import { until } from '../support/wait.js';

const KEY = 'contract-key';
const SECRET = 'contract-secret';
const log = createLogger({ level: 'silent', format: 'json', isTty: false });

// Bybit spot through our REST client, adapter and private stream, against the fake Bybit (a fresh one per test).
describeExchangeContract('bybit (fake)', async () => {
  const fake = await startBtcFake(KEY, SECRET, { balances: { USDT: '100000', BTC: '1' } });
  const api = new BybitApi(
    new BybitRestClient({ baseUrl: fake.url, apiKey: KEY, apiSecret: SECRET, timeoutMs: 2000 }),
  );
  const exchange = new BybitExchange(api);
  await exchange.open(['BTCUSDT']);
  // Executions arrive as in production: the private stream hands them to the exchange's listeners.
  const seen = new Set<string>();
  exchange.onExecutions((executions) => {
    for (const e of executions) seen.add(e.execId);
  });
  let subscribed: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    subscribed = resolve;
  });
  const feed = new BybitExecutionFeed({
    api,
    exchange,
    url: fake.wsPrivateUrl,
    apiKey: KEY,
    apiSecret: SECRET,
    pollMs: 60_000,
    fallbackAfterMs: 60_000,
    log,
    reconcile: async () => subscribed(),
  });
  feed.start();
  await ready;
  return {
    exchange,
    symbol: 'BTCUSDT',
    baseAsset: 'BTC',
    quoteAsset: 'USDT',
    startPrice: '100000',
    makerFee: '0.001',
    cursor: 'at-or-after',
    movePrice: async (price) => {
      // A move a millisecond apart from the last fill, so each move's executions have an execution time of their own.
      await sleep(2);
      fake.setPrice('BTCUSDT', price);
      await until(
        async () => (fake.executions().every((e) => seen.has(e.execId)) ? true : undefined),
        `the executions of the move to ${price} on the private stream`,
        5000,
      );
    },
    // Bybit takes the order and answers HTTP 503: the answer, and the lookups' answers, are lost while it lasts.
    placeLosingAnswer: async (request) => {
      fake.faults.http5xxAfterProcessing = 1;
      try {
        return await exchange.placeOrder(request);
      } finally {
        fake.faults.http5xxAfterProcessing = 0;
      }
    },
    close: async () => {
      await feed.stop();
      await fake.close();
    },
  };
});
