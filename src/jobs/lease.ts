import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * A lease in Redis: at most one process holds it at a time; it is renewed while the holder lives and lapses within
 * ttlMs when it dies, so another process takes over. Used for the work only one process may do (the market feed).
 */
export class Lease {
  private readonly token = randomUUID();
  private timer: NodeJS.Timeout | null = null;
  private held = false;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly ttlMs: number,
    private readonly onChange: (held: boolean) => void | Promise<void>,
  ) {}

  start(): void {
    const tick = async () => {
      try {
        const now = this.held
          ? (await this.redis.eval(RENEW, 1, this.key, this.token, String(this.ttlMs))) === 1
          : (await this.redis.set(this.key, this.token, 'PX', this.ttlMs, 'NX')) === 'OK';
        if (now !== this.held) {
          this.held = now;
          await this.onChange(now);
        }
      } catch {
        // Redis unreachable: keep what we have until the lease would have lapsed anyway.
      }
      this.timer = setTimeout(tick, Math.max(100, Math.floor(this.ttlMs / 3)));
    };
    void tick();
  }

  get isHeld(): boolean {
    return this.held;
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.held) {
      this.held = false;
      await this.onChange(false);
      await this.redis.eval(RELEASE, 1, this.key, this.token).catch(() => undefined);
    }
  }
}
