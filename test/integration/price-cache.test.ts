import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { PriceCache } from '../../src/market/price-cache.js';
import { REDIS_URL, testPrefix } from '../support/services.js';

/**
 * The latest price is the newest tick's, whatever order the price jobs run in (issue 14: it was the last writer's).
 * Protects: two price jobs of one symbol processed out of order leaving the older price as the latest, and the guard
 * against that freezing the price once a feed restarts below the last seq.
 */
describe('price cache (real Redis)', () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  let key: string;
  let cache: PriceCache;
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(async () => {
    key = `${testPrefix()}:prices`;
    cache = new PriceCache(redis, key);
  });

  const tick = (seq: number, price: string, symbol = 'BTCUSDT') => ({
    symbol,
    seq,
    price,
    atMs: Math.floor(seq / 1000),
  });
  const T = 1_760_000_000_000 * 1000; // a feed's seq: its clock in ms, times 1000, plus a counter

  it('an older tick arriving after a newer one does not replace it', async () => {
    expect(await cache.set([tick(T + 2, '101')])).toEqual([true]);
    expect(await cache.set([tick(T + 1, '100')])).toEqual([false]);
    expect(await cache.get('BTCUSDT')).toEqual({
      symbol: 'BTCUSDT',
      price: '101',
      atMs: Math.floor((T + 2) / 1000),
    });
    expect(await cache.set([tick(T + 3, '102')])).toEqual([true]);
    expect((await cache.get('BTCUSDT'))?.price).toBe('102');
  });

  it('orders the ticks of one batch, and symbols independently', async () => {
    expect(await cache.set([tick(T + 5, '105'), tick(T + 4, '104'), tick(T + 1, '3000', 'ETHUSDT')])).toEqual(
      [true, false, true],
    );
    expect(
      (await cache.all()).map((p) => [p.symbol, p.price]).sort(([a], [b]) => a!.localeCompare(b!)),
    ).toEqual([
      ['BTCUSDT', '105'],
      ['ETHUSDT', '3000'],
    ]);
  });

  it('the same tick twice changes nothing (a redelivered price job)', async () => {
    await cache.set([tick(T + 7, '107')]);
    const stored = await redis.hget(key, 'BTCUSDT');
    expect(await cache.set([tick(T + 7, '999')])).toEqual([false]);
    expect(await redis.hget(key, 'BTCUSDT')).toBe(stored);
  });

  it('concurrent writers, each in its own connection and in random order: the highest seq wins', async () => {
    const clients = Array.from({ length: 8 }, () => new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }));
    try {
      const seqs = Array.from({ length: 200 }, (_, i) => T + i);
      // A fixed shuffle, so a failure reproduces.
      let s = 7;
      for (let i = seqs.length - 1; i > 0; i--) {
        s = (s * 1103515245 + 12345) % 2 ** 31;
        const j = s % (i + 1);
        [seqs[i], seqs[j]] = [seqs[j]!, seqs[i]!];
      }
      await Promise.all(
        seqs.map((seq, i) =>
          new PriceCache(clients[i % clients.length]!, key).set([tick(seq, String(seq - T))]),
        ),
      );
      expect((await cache.get('BTCUSDT'))?.price).toBe('199');
    } finally {
      await Promise.all(clients.map((c) => c.quit()));
    }
  });

  it('reads and replaces a value written before the seq was kept', async () => {
    await redis.hset(key, 'BTCUSDT', '95000@1760000000000');
    expect(await cache.get('BTCUSDT')).toEqual({ symbol: 'BTCUSDT', price: '95000', atMs: 1760000000000 });
    expect(await cache.set([tick(1, '96000')])).toEqual([true]);
    expect((await cache.get('BTCUSDT'))?.price).toBe('96000');
  });

  it('a price set without a seq is ordered by its time', async () => {
    await cache.set([{ symbol: 'BTCUSDT', price: '100', atMs: 1_760_000_000_000 }]);
    // A tick of the same millisecond comes after it (the feeds' counter starts at 1), an earlier one does not.
    expect(await cache.set([tick(T + 1, '101')])).toEqual([true]);
    expect(await cache.set([{ symbol: 'BTCUSDT', price: '99', atMs: 1_759_999_999_999 }])).toEqual([false]);
    expect((await cache.get('BTCUSDT'))?.price).toBe('101');
  });

  it('a feed restarted below the last seq is refused only until the last price is stale, then followed', async () => {
    // The feed moved to a process whose clock is behind (or the clock was stepped back; or a feed whose seq starts
    // again from 0): its seqs are all below the last one kept. Refused for staleMs after the last accepted write (an
    // out-of-order tick is one that arrives within that), then the new series is followed in its own order.
    const staleMs = 300;
    const cache = new PriceCache(redis, key, staleMs);
    expect(await cache.set([tick(T + 1000, '100')])).toEqual([true]);
    const restarted = T - 3_600_000 * 1000; // an hour behind
    expect(await cache.set([tick(restarted + 1, '200')])).toEqual([false]);
    expect((await cache.get('BTCUSDT'))?.price).toBe('100');
    await new Promise((r) => setTimeout(r, staleMs + 50));
    expect(await cache.set([tick(restarted + 2, '201')])).toEqual([true]);
    expect((await cache.get('BTCUSDT'))?.price).toBe('201');
    // From there the new series is ordered as before: newer replaces, older and equal do not.
    expect(await cache.set([tick(restarted + 4, '204')])).toEqual([true]);
    expect(await cache.set([tick(restarted + 3, '203')])).toEqual([false]);
    expect(await cache.set([tick(restarted + 4, '999')])).toEqual([false]);
    expect((await cache.get('BTCUSDT'))?.price).toBe('204');
    // A seq restarting from 0 is no different.
    await new Promise((r) => setTimeout(r, staleMs + 50));
    expect(await cache.set([tick(0, '1')])).toEqual([true]);
    expect(await cache.set([tick(1, '2')])).toEqual([true]);
    expect((await cache.get('BTCUSDT'))?.price).toBe('2');
  });

  it('with the default bound, a tick an hour older than the latest is refused', async () => {
    await cache.set([tick(T, '100')]);
    expect(await cache.set([tick(T - 3_600_000 * 1000, '50')])).toEqual([false]);
    expect((await cache.get('BTCUSDT'))?.price).toBe('100');
  });
});
