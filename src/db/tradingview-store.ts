import type { Redis } from 'ioredis';
import type { RecentAlertBodies } from '../app/ports/tradingview.js';

/** A key per body hash that expires with the window; SET NX decides which of two same bodies is the first. */
export class RedisAlertBodies implements RecentAlertBodies {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async claim(hash: string, windowMs: number): Promise<boolean> {
    return (await this.redis.set(this.key(hash), '1', 'PX', windowMs, 'NX')) !== null;
  }

  async forget(hash: string): Promise<void> {
    await this.redis.del(this.key(hash));
  }

  private key(hash: string): string {
    return `${this.prefix}:tv-seen:${hash}`;
  }
}
