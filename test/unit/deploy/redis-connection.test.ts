import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisConnection } from '../../../src/jobs/queues.js';

// BullMQ's connections and the start-up probe take redisConnection(REDIS_URL); the app's shared client takes the URL
// itself. Protects: both read the password, user, database and TLS of a URL alike, so a Redis with a password (as
// docker compose runs it) is reached by every client or by none, never by half of them.
const urls = [
  'redis://127.0.0.1:6379',
  'redis://:s3cret@redis:6379',
  'redis://:p%40ss%2Fw%3Ard%23@redis:6380/2',
  'redis://gridops:s3cret@10.0.0.5/15',
  'rediss://:s3cret@cache.example.com:6380/1',
  'redis://:s3cret@[::1]:6390/3',
  'redis://redis',
];

function asIoredisReadsIt(url: string) {
  const client = new Redis(url, { lazyConnect: true });
  const o = client.options;
  client.disconnect();
  return {
    host: o.host,
    port: o.port,
    password: o.password || undefined,
    username: o.username || undefined,
    db: o.db ?? 0,
    tls: Boolean(o.tls),
  };
}

describe('redisConnection', () => {
  it.each(urls)('reads %s as ioredis does', (url) => {
    const c = redisConnection(url);
    expect({
      host: c.host,
      port: c.port,
      password: c.password,
      username: c.username,
      db: c.db ?? 0,
      tls: Boolean(c.tls),
    }).toEqual(asIoredisReadsIt(url));
  });

  it('decodes a percent-encoded password and keeps an IPv6 host bare', () => {
    expect(redisConnection('redis://:p%40ss%2Fw%3Ard%23@[::1]:6390/3')).toMatchObject({
      host: '::1',
      port: 6390,
      password: 'p@ss/w:rd#',
      db: 3,
    });
  });

  it('turns on TLS for rediss://, and only for it', () => {
    expect(redisConnection('rediss://:s3cret@cache.example.com:6380').tls).toEqual({});
    expect(redisConnection('redis://:s3cret@cache.example.com:6380')).not.toHaveProperty('tls');
  });

  it('refuses a database that is not a number, naming REDIS_URL', () => {
    expect(() => redisConnection('redis://:s3cret@redis:6379/cache')).toThrow(
      'REDIS_URL: the database after the host must be a number such as /0, not /cache',
    );
  });
});
