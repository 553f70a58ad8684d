import type { Redis } from 'ioredis';

export interface LatestPrice {
  readonly symbol: string;
  readonly price: string;
  readonly atMs: number;
}

/** The latest price of each symbol, in Redis, for status displays and for starting grids. Postgres keeps history. */
export class PriceCache {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  async set(ticks: readonly LatestPrice[]): Promise<void> {
    if (ticks.length === 0) return;
    const args: string[] = [];
    for (const t of ticks) args.push(t.symbol, `${t.price}@${t.atMs}`);
    await this.redis.hset(this.key, ...args);
  }

  async get(symbol: string): Promise<LatestPrice | null> {
    const raw = await this.redis.hget(this.key, symbol);
    return raw ? parse(symbol, raw) : null;
  }

  async all(): Promise<LatestPrice[]> {
    const raw = await this.redis.hgetall(this.key);
    return Object.entries(raw).map(([symbol, value]) => parse(symbol, value));
  }
}

function parse(symbol: string, raw: string): LatestPrice {
  const [price, at] = raw.split('@');
  return { symbol, price: price!, atMs: Number(at) };
}
