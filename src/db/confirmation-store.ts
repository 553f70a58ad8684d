import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Confirmations, PendingConfirmation } from '../app/ports/confirmations.js';

/** Pending confirmations in Redis: a key per id that expires with the prompt, and DEL decides the one taker. */
export class RedisConfirmations implements Confirmations {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async remember(pending: PendingConfirmation, ttlMs: number): Promise<string> {
    const id = randomBytes(8).toString('hex');
    await this.redis.set(this.key(id), JSON.stringify(pending), 'PX', ttlMs);
    return id;
  }

  async peek(id: string): Promise<PendingConfirmation | null> {
    const raw = await this.redis.get(this.key(id));
    return raw ? (JSON.parse(raw) as PendingConfirmation) : null;
  }

  async take(id: string): Promise<boolean> {
    return (await this.redis.del(this.key(id))) === 1;
  }

  private key(id: string): string {
    return `${this.prefix}:confirm:${id}`;
  }
}
