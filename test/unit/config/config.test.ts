import { describe, expect, it } from 'vitest';
import { bybitEndpoints, ConfigError, loadConfig } from '../../../src/config.js';

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
};

describe('configuration', () => {
  it('defaults to paper trading on a simulated market against local services', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      TRADING_MODE: 'paper',
      MARKET_DATA: 'simulated',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/gridops',
      REDIS_URL: 'redis://127.0.0.1:6379',
      HTTP_PORT: 8000,
    });
    expect(bybitEndpoints(c)).toBeNull();
  });

  it('refuses live trading without LIVE_TRADING_CONFIRM=yes, and Bybit modes without keys', () => {
    expect(problems({ TRADING_MODE: 'live', BYBIT_API_KEY: 'k', BYBIT_API_SECRET: 's' })).toEqual([
      'TRADING_MODE live trades real money on Bybit mainnet: set LIVE_TRADING_CONFIRM=yes to confirm',
    ]);
    expect(problems({ TRADING_MODE: 'testnet' })).toEqual([
      'TRADING_MODE testnet needs BYBIT_API_KEY and BYBIT_API_SECRET (keys of that environment)',
    ]);
    expect(problems({ TRADING_MODE: 'dry-run' })).toEqual([]);
    expect(
      problems({
        TRADING_MODE: 'live',
        LIVE_TRADING_CONFIRM: 'yes',
        BYBIT_API_KEY: 'k',
        BYBIT_API_SECRET: 's',
      }),
    ).toEqual([]);
  });

  it('points each mode at its Bybit, unless told otherwise', () => {
    const keys = { BYBIT_API_KEY: 'k', BYBIT_API_SECRET: 's' };
    expect(bybitEndpoints(loadConfig({ TRADING_MODE: 'testnet', ...keys }))).toEqual({
      rest: 'https://api-testnet.bybit.com',
      wsPublic: 'wss://stream-testnet.bybit.com/v5/public/spot',
      wsPrivate: 'wss://stream-testnet.bybit.com/v5/private',
    });
    expect(bybitEndpoints(loadConfig({ TRADING_MODE: 'demo', ...keys }))?.wsPublic).toBe(
      'wss://stream.bybit.com/v5/public/spot',
    );
    expect(
      bybitEndpoints(
        loadConfig({ TRADING_MODE: 'testnet', ...keys, BYBIT_REST_URL: 'http://127.0.0.1:9999' }),
      )?.rest,
    ).toBe('http://127.0.0.1:9999');
  });

  it('names every bad field and never echoes a secret', () => {
    const found = problems({
      HTTP_PORT: 'eighty',
      TRADING_MODE: 'yolo',
      BYBIT_REST_URL: 'not a url',
      BYBIT_API_SECRET: 'hunter2',
    });
    expect(found).toHaveLength(3);
    expect(found.join(' ')).toMatch(/HTTP_PORT/);
    expect(found.join(' ')).toMatch(/TRADING_MODE must be paper, dry-run, testnet, demo or live/);
    expect(found.join(' ')).toMatch(/BYBIT_REST_URL must be a URL/);
    expect(found.join(' ')).not.toMatch(/hunter2/);
  });
});

describe('.env.example', () => {
  it('documents every setting, and its values are valid', async () => {
    const { readFileSync } = await import('node:fs');
    const { EnvSchema } = await import('../../../src/config.js');
    const text = readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8');
    const values = Object.fromEntries(
      text
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(() => loadConfig(values)).not.toThrow();
    const mentioned = new Set(text.match(/[A-Z][A-Z0-9_]{2,}/g));
    const missing = Object.keys(EnvSchema.shape).filter((k) => !mentioned.has(k));
    expect(missing).toEqual([]);
  });
});
