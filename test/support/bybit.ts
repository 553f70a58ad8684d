import { type FakeBybit, type FakeBybitOptions, startFakeBybit } from '../fakes/bybit/server.js';

/** Bybit's spot BTCUSDT filters, as the fake lists them. */
export const BTCUSDT = {
  symbol: 'BTCUSDT',
  baseCoin: 'BTC',
  quoteCoin: 'USDT',
  tickSize: '0.01',
  basePrecision: '0.000001',
  minOrderQty: '0.000048',
  minOrderAmt: '5',
} as const;

/** A fake Bybit listing BTCUSDT, priced at 100,000, with the given key, secret and balances. */
export async function startBtcFake(
  key: string,
  secret: string,
  extra: Partial<FakeBybitOptions> = {},
): Promise<FakeBybit> {
  const fake = await startFakeBybit({
    apiKey: key,
    apiSecret: secret,
    instruments: [BTCUSDT],
    balances: { USDT: '100000' },
    ...extra,
  });
  fake.setPrice('BTCUSDT', '100000');
  return fake;
}

/** The environment that points the app, in testnet mode, at a fake Bybit (REST and both streams). */
export function testnetEnv(fake: FakeBybit, key: string, secret: string): Record<string, string> {
  return {
    TRADING_MODE: 'testnet',
    // An exchange account is at stake in testnet mode, so the app refuses to start without an API token.
    API_TOKEN: 'bybit-tests-operator-token-0123456789',
    BYBIT_API_KEY: key,
    BYBIT_API_SECRET: secret,
    BYBIT_REST_URL: fake.url,
    BYBIT_WS_PUBLIC_URL: fake.wsPublicUrl,
    BYBIT_WS_PRIVATE_URL: fake.wsPrivateUrl,
    MARKET_SYMBOLS: 'BTCUSDT',
  };
}
