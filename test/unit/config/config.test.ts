import { describe, expect, it } from 'vitest';
import {
  bybitEndpoints,
  ConfigError,
  exposureProblems,
  loadConfig,
  moneyAtStake,
  trustProxyProblems,
} from '../../../src/config.js';

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

// Issue 13, item 2: a URL override must never turn test money into real money without the user's word for it.
describe('which money a configuration trades', () => {
  const keys = { BYBIT_API_KEY: 'k', BYBIT_API_SECRET: 's' };

  it('testnet or demo pointed at mainnet (or any other host) is real money and needs LIVE_TRADING_CONFIRM', () => {
    expect(problems({ TRADING_MODE: 'testnet', ...keys, BYBIT_REST_URL: 'https://api.bybit.com' })).toEqual([
      'TRADING_MODE testnet points at api.bybit.com, which is not a Bybit testnet or demo host: that is real money; ' +
        'set LIVE_TRADING_CONFIRM=yes to confirm, or use the default URLs',
    ]);
    expect(
      problems({ TRADING_MODE: 'demo', ...keys, BYBIT_WS_PRIVATE_URL: 'wss://stream.bybit.com/v5/private' }),
    ).toHaveLength(1);
    expect(
      problems({ TRADING_MODE: 'testnet', ...keys, BYBIT_REST_URL: 'https://bybit.example.net' }),
    ).toHaveLength(1);
    const confirmed = loadConfig({
      TRADING_MODE: 'demo',
      ...keys,
      BYBIT_REST_URL: 'https://api.bybit.com',
      LIVE_TRADING_CONFIRM: 'yes',
    });
    expect(moneyAtStake(confirmed)).toEqual({ real: true, label: 'real', host: 'api.bybit.com' });
  });

  it("Bybit's testnet and demo hosts, and loopback fakes, are test money; the public price stream does not count", () => {
    expect(moneyAtStake(loadConfig({ TRADING_MODE: 'testnet', ...keys }))).toEqual({
      real: false,
      label: 'test',
      host: 'api-testnet.bybit.com',
    });
    // Demo trading reads mainnet's public stream by default: prices only, no money moves through it.
    expect(moneyAtStake(loadConfig({ TRADING_MODE: 'demo', ...keys })).real).toBe(false);
    for (const host of ['127.0.0.1:9000', 'localhost:9000', '[::1]:9000', '127.5.6.7']) {
      const c = loadConfig({ TRADING_MODE: 'testnet', ...keys, BYBIT_REST_URL: `http://${host}` });
      expect(moneyAtStake(c).real, host).toBe(false);
    }
    expect(moneyAtStake(loadConfig({})).label).toBe('paper');
    // dry-run places no order anywhere, whatever its price source.
    expect(
      moneyAtStake(loadConfig({ TRADING_MODE: 'dry-run', BYBIT_REST_URL: 'https://api.bybit.com' })).real,
    ).toBe(false);
  });

  it('live is real money even on loopback, and names the host', () => {
    const c = loadConfig({
      TRADING_MODE: 'live',
      ...keys,
      LIVE_TRADING_CONFIRM: 'yes',
      BYBIT_REST_URL: 'http://127.0.0.1:9000',
    });
    expect(moneyAtStake(c)).toEqual({ real: true, label: 'real', host: '127.0.0.1' });
  });
});

// Issue 13, items 4 and 12: the settings that decide who can reach the HTTP server.
describe('exposure settings', () => {
  const token = 'a'.repeat(24);

  it('needs API_TOKEN whenever anything implies outside exposure, naming what did', () => {
    expect(exposureProblems(loadConfig({}))).toEqual([]);
    expect(exposureProblems(loadConfig({ TRADING_MODE: 'dry-run' }))).toEqual([]);
    const all = exposureProblems(
      loadConfig({
        TV_PASSPHRASE: 'p'.repeat(16),
        HTTP_TRUST_PROXY: '10.0.0.1',
        TELEGRAM_WEBHOOK_URL: 'https://bot.example.com/t',
        TELEGRAM_WEBHOOK_SECRET: 's'.repeat(16),
        TRADING_MODE: 'testnet',
        BYBIT_API_KEY: 'k',
        BYBIT_API_SECRET: 's',
      }),
    );
    expect(all).toHaveLength(1);
    for (const why of ['TV_PASSPHRASE', 'HTTP_TRUST_PROXY', 'TELEGRAM_WEBHOOK_URL', 'TRADING_MODE testnet'])
      expect(all[0]).toContain(why);
    expect(
      exposureProblems(
        loadConfig({
          API_TOKEN: token,
          TRADING_MODE: 'live',
          LIVE_TRADING_CONFIRM: 'yes',
          BYBIT_API_KEY: 'k',
          BYBIT_API_SECRET: 's',
        }),
      ),
    ).toEqual([]);
  });

  it('minimum lengths: 24 for tokens, 16 for the TradingView passphrase and the Telegram webhook secret', () => {
    expect(problems({ API_TOKEN: 'a'.repeat(23) }).join()).toMatch(/API_TOKEN must be at least 24/);
    expect(problems({ API_TOKEN: token, API_READONLY_TOKEN: 'b'.repeat(23) }).join()).toMatch(
      /API_READONLY_TOKEN must be at least 24/,
    );
    expect(problems({ TV_PASSPHRASE: 'p'.repeat(15) }).join()).toMatch(/TV_PASSPHRASE must be at least 16/);
    expect(problems({ TELEGRAM_WEBHOOK_SECRET: 's'.repeat(15) }).join()).toMatch(/TELEGRAM_WEBHOOK_SECRET/);
    expect(problems({ API_TOKEN: token, TV_PASSPHRASE: 'p'.repeat(16) })).toEqual([]);
  });

  it('refuses a read-only token without an operator token, or equal to it', () => {
    expect(problems({ API_READONLY_TOKEN: token })).toEqual([
      'API_READONLY_TOKEN needs API_TOKEN (without API_TOKEN the server is open to this machine, so a read-only token would protect nothing)',
    ]);
    expect(problems({ API_TOKEN: token, API_READONLY_TOKEN: token })).toEqual([
      'API_READONLY_TOKEN must differ from API_TOKEN',
    ]);
  });

  it('trusts proxies by address or by ranges of at most 65,536 addresses', () => {
    expect(trustProxyProblems('127.0.0.1, 10.1.0.0/16, ::1, fd00::/112')).toEqual([]);
    expect(trustProxyProblems('10.0.0.0/8')).toEqual([
      "10.0.0.0/8 is wider than /16: trust the proxy's own address, not a whole network",
    ]);
    expect(trustProxyProblems('0.0.0.0/0').length).toBe(1);
    expect(trustProxyProblems('fd00::/64').length).toBe(1);
    expect(trustProxyProblems('true').length).toBe(1);
    expect(trustProxyProblems('300.1.1.1').length).toBe(1);
    expect(problems({ HTTP_TRUST_PROXY: '10.0.0.0/8' }).join()).toMatch(
      /HTTP_TRUST_PROXY 10.0.0.0\/8 is wider/,
    );
  });

  it('caps the confirmation window at ten minutes', () => {
    expect(problems({ CHAT_CONFIRM_TTL_MS: '600001' }).join()).toMatch(/CHAT_CONFIRM_TTL_MS/);
    expect(loadConfig({ CHAT_CONFIRM_TTL_MS: '600000' }).CHAT_CONFIRM_TTL_MS).toBe(600_000);
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
