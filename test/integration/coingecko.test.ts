import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CoinGecko, CoinGeckoError } from '../../src/market/coingecko.js';
import { type FakeCoinGecko, startFakeCoinGecko } from '../fakes/coingecko/server.js';

const DEMO_KEY = 'CG-fakeDemoKey0123456789';
const TTL = 60_000;

async function caught(p: Promise<unknown>): Promise<CoinGeckoError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CoinGeckoError);
    return err as CoinGeckoError;
  }
  throw new Error('expected a CoinGeckoError');
}

/** Our CoinGecko client against the fake CoinGecko, over real HTTP. */
describe('CoinGecko client against the fake CoinGecko', () => {
  let fake: FakeCoinGecko;
  let now: number;
  let client: CoinGecko;

  beforeAll(async () => {
    fake = await startFakeCoinGecko({ demoKey: DEMO_KEY });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    now = 1_000_000;
    client = new CoinGecko({ baseUrl: fake.url, apiKey: DEMO_KEY, cacheTtlMs: TTL, nowMs: () => now });
  });

  it('gives simple prices as decimal strings, in the order asked, leaving out unknown ids', async () => {
    const prices = await client.simplePrices(['dogecoin', 'bitcoin', 'no-such-coin', 'bitcoin']);
    expect(prices).toEqual([
      { id: 'dogecoin', usd: '0.16234', change24hPct: '0.75' },
      { id: 'bitcoin', usd: '76975.12', change24hPct: '-1.409' },
    ]);
    expect(await client.simplePrices([])).toEqual([]);
  });

  it('lists top markets by market cap, with decimal strings', async () => {
    const top = await client.topMarkets(3);
    expect(top.map((c) => c.id)).toEqual(['bitcoin', 'ethereum', 'ripple']);
    expect(top[0]).toEqual({
      id: 'bitcoin',
      symbol: 'BTC',
      name: 'Bitcoin',
      price: '76975.12',
      change24hPct: '-1.409',
      marketCap: '1532874561234',
      volume24h: '38123456789.5',
      rank: 1,
    });
    const all = await client.topMarkets();
    expect(all.map((c) => c.rank)).toEqual([1, 2, 4, 6, 9]);
    await expect(client.topMarkets(0)).rejects.toThrow(RangeError);
  });

  it('splits movers into gainers (largest rise first) and losers (largest fall first)', async () => {
    const { gainers, losers } = await client.topMovers();
    expect(gainers.map((c) => [c.id, c.change24hPct])).toEqual([
      ['solana', '6.0211'],
      ['ethereum', '2.3145'],
      ['dogecoin', '0.75'],
    ]);
    expect(losers.map((c) => [c.id, c.change24hPct])).toEqual([
      ['ripple', '-4.87'],
      ['bitcoin', '-1.409'],
    ]);
    const one = await client.topMovers(1);
    expect(one.gainers.map((c) => c.id)).toEqual(['solana']);
    expect(one.losers.map((c) => c.id)).toEqual(['ripple']);
  });

  it('gives trending coins', async () => {
    const trending = await client.trending();
    expect(trending).toHaveLength(5);
    expect(trending[0]).toEqual({
      id: 'solana',
      symbol: 'SOL',
      name: 'Solana',
      rank: 6,
      priceBtc: '0.002239',
    });
    expect(trending.find((c) => c.id === 'dogecoin')?.priceBtc).toBe('0.000002109');
  });

  it('caches per URL: nothing fetched within the TTL, one more fetch after it', async () => {
    const before = fake.calls();
    await client.topMarkets(5);
    expect(fake.calls()).toBe(before + 1);
    now += TTL - 1;
    await client.topMarkets(5);
    expect(fake.calls()).toBe(before + 1);
    await client.topMarkets(4); // another URL
    expect(fake.calls()).toBe(before + 2);
    now += 1;
    await client.topMarkets(5);
    expect(fake.calls()).toBe(before + 3);
  });

  it('shares one cache entry for the same ids in any order, and one request between concurrent callers', async () => {
    const before = fake.calls();
    await Promise.all([
      client.simplePrices(['bitcoin', 'solana']),
      client.simplePrices(['solana', 'bitcoin']),
    ]);
    expect(fake.calls()).toBe(before + 1);
    const again = await client.simplePrices(['solana', 'bitcoin']);
    expect(again.map((p) => p.id)).toEqual(['solana', 'bitcoin']);
    expect(fake.calls()).toBe(before + 1);
  });

  it('topMovers shares the top-100 cache entry with topMarkets(100)', async () => {
    const before = fake.calls();
    await client.topMarkets(100);
    await client.topMovers(2);
    expect(fake.calls()).toBe(before + 1);
  });

  it('returns the stale value when the API fails after the TTL (503, then 429)', async () => {
    const first = await client.trending();
    now += TTL * 3;
    const before = fake.calls();
    fake.failNext(503, { status: { error_code: 503, error_message: 'Service Unavailable' } });
    expect(await client.trending()).toEqual(first);
    expect(fake.calls()).toBe(before + 1);
    fake.failNext(429, undefined, { 'retry-after': '30' });
    expect(await client.trending()).toEqual(first);
    // The failures did not refresh the cache: the next call asks again, and succeeds.
    expect(await client.trending()).toEqual(first);
    expect(fake.calls()).toBe(before + 3);
  });

  it('does not hide a bad key behind the cache', async () => {
    await client.topMarkets(2);
    now += TTL;
    fake.failNext(401, { status: { error_code: 10002, error_message: 'API Key Missing' } });
    const err = await caught(client.topMarkets(2));
    expect(err.kind).toBe('bad-key');
  });

  it('429 with Retry-After: 30 and no cache: rate-limited, retryAfterMs 30000', async () => {
    fake.failNext(
      429,
      { status: { error_code: 429, error_message: "You've exceeded the Rate Limit." } },
      {
        'retry-after': '30',
      },
    );
    const err = await caught(client.topMarkets(7));
    expect(err.kind).toBe('rate-limited');
    expect(err.retryAfterMs).toBe(30_000);
    expect(err.message).toContain('429');
  });

  it('429 without Retry-After: retryAfterMs null; 500 without cache: unavailable', async () => {
    fake.failNext(429);
    const limited = await caught(client.topMarkets(8));
    expect(limited.kind).toBe('rate-limited');
    expect(limited.retryAfterMs).toBeNull();
    fake.failNext(500, 'oops');
    expect((await caught(client.topMarkets(8))).kind).toBe('unavailable');
  });

  it('a body of the wrong shape is bad-response', async () => {
    fake.failNext(200, [{ id: 'bitcoin', current_price: '76975' }]);
    const err = await caught(client.topMarkets(9));
    expect(err.kind).toBe('bad-response');
    fake.failNext(200, 'not json');
    expect((await caught(client.trending())).kind).toBe('bad-response');
  });

  it('missing or wrong demo key: bad-key, and the key is not in the message', async () => {
    const noKey = new CoinGecko({ baseUrl: fake.url });
    const missing = await caught(noKey.simplePrices(['bitcoin']));
    expect(missing.kind).toBe('bad-key');
    expect(missing.message).toContain('10002');

    const wrongKey = 'CG-wrongDemoKey9876543210';
    const wrong = await caught(new CoinGecko({ baseUrl: fake.url, apiKey: wrongKey }).trending());
    expect(wrong.kind).toBe('bad-key');
    expect(wrong.message).not.toContain(wrongKey);
    expect(wrong.message).not.toContain(DEMO_KEY);

    const pro = await caught(
      new CoinGecko({ baseUrl: fake.url, apiKey: wrongKey, keyType: 'pro' }).trending(),
    );
    expect(pro.kind).toBe('bad-key');
    expect(pro.message).toContain('10010');
    expect(pro.message).not.toContain(wrongKey);
  });

  it('redacts the key even if the API echoes it', async () => {
    fake.failNext(401, { status: { error_code: 10002, error_message: `Invalid API Key ${DEMO_KEY}` } });
    const err = await caught(client.trending());
    expect(err.kind).toBe('bad-key');
    expect(err.message).not.toContain(DEMO_KEY);
    expect(String(err.stack)).not.toContain(DEMO_KEY);
  });
});

describe('CoinGecko client timeouts', () => {
  let server: Server;
  let url: string;
  let respond = true;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      if (respond) res.writeHead(200, { 'content-type': 'application/json' }).end('{"coins":[],"nfts":[]}');
      // else: never answer
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v3`;
  });
  afterEach(() => {
    respond = true;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('a timeout without cache is unavailable; with a cached value, the stale value is returned', async () => {
    let now = 0;
    const client = new CoinGecko({ baseUrl: url, timeoutMs: 200, cacheTtlMs: 1000, nowMs: () => now });
    expect(await client.trending()).toEqual([]);
    respond = false;
    now += 5000;
    expect(await client.trending()).toEqual([]);

    const cold = new CoinGecko({ baseUrl: url, timeoutMs: 200 });
    const err = await caught(cold.trending());
    expect(err.kind).toBe('unavailable');
    expect(err.message).toContain('timed out after 200 ms');
  });
});
