import type { Redis } from 'ioredis';
import { RedisScript } from '../db/redis-script.js';

export interface LatestPrice {
  readonly symbol: string;
  readonly price: string;
  readonly atMs: number;
}

/**
 * A price to keep, with its place in the symbol's order: the tick's seq (see PriceTick). Without one (a price set by
 * hand, in tests and benches) it is ordered by its time, as the feeds' seq is: atMs * 1000.
 */
export interface PriceWrite extends LatestPrice {
  readonly seq?: number;
}

/**
 * How long the latest price may go without a newer one before an older seq may replace it. Price jobs run
 * concurrently and are retried (a stalled one after about two JOB_LOCK_MS), so an older tick can arrive after a newer
 * one: it is refused. But seq is the feed's clock; a feed taken over by a process whose clock is behind (or after the
 * clock was stepped back) starts below the last seq, and without this bound the price would stay frozen until that
 * clock caught up, for as long as the skew. Measured by Redis's own clock, the one clock every writer shares.
 */
export const PRICE_STALE_MS = 60_000;

/**
 * One round trip for a batch: each tick, in order, replaces its symbol's price only if its seq is greater, or the
 * price there has not been replaced for staleMs. A value is 'price@atMs@seq@writtenMs'; one written before seq was
 * kept ('price@atMs') is replaced by any tick. An equal seq is the same tick again: nothing changes.
 * Seqs are below 2^53 (time in ms * 1000), exact as Lua numbers; they are compared as numbers, stored as given.
 */
const SET_NEWER = new RedisScript(`
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stamp = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
local staleMs = tonumber(ARGV[1])
local written = {}
for i = 2, #ARGV, 3 do
  local symbol, value, seq = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local write = true
  local old = redis.call('HGET', KEYS[1], symbol)
  if old then
    local oldSeq, oldWritten = string.match(old, '^[^@]*@[^@]*@([^@]+)@([^@]+)$')
    if oldSeq then
      local newer, older = tonumber(seq) > tonumber(oldSeq), tonumber(seq) < tonumber(oldSeq)
      write = newer or (older and nowMs - tonumber(oldWritten) >= staleMs)
    end
  end
  if write then redis.call('HSET', KEYS[1], symbol, value .. '@' .. seq .. '@' .. stamp) end
  written[#written + 1] = write and 1 or 0
end
return written
`);

/**
 * The latest price of each symbol, in Redis, for status displays, the risk figures and starting grids. Postgres keeps
 * history. Ticks are applied by many workers in no fixed order: the newest tick wins, not the last write.
 */
export class PriceCache {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly staleMs: number = PRICE_STALE_MS,
  ) {}

  /** Keeps each tick that is newer than the symbol's latest; returns, per tick, whether it became the latest. */
  async set(ticks: readonly PriceWrite[]): Promise<boolean[]> {
    if (ticks.length === 0) return [];
    const args: (string | number)[] = [this.staleMs];
    for (const t of ticks) args.push(t.symbol, `${t.price}@${t.atMs}`, String(t.seq ?? t.atMs * 1000));
    const written = (await SET_NEWER.run(this.redis, [this.key], args)) as number[];
    return written.map((w) => w === 1);
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

/** 'price@atMs', and since the seq is kept '@seq@writtenMs' after it (which this reader, like older ones, skips). */
function parse(symbol: string, raw: string): LatestPrice {
  const [price, at] = raw.split('@');
  return { symbol, price: price!, atMs: Number(at) };
}
