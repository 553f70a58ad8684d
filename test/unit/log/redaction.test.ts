import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log/logger.js';

describe('logs', () => {
  it('never carry a secret, at the top level or nested', () => {
    let out = '';
    const destination = new Writable({
      write(chunk, _encoding, done) {
        out += chunk.toString();
        done();
      },
    });
    const log = createLogger({ level: 'info', format: 'json', isTty: false, destination });
    log.info(
      { apiSecret: 's3cr3t-1', bybit: { apiKey: 'k3y-2', apiSecret: 's3cr3t-3' }, token: 't0k3n-4' },
      'connecting',
    );
    log.info({ config: { BYBIT_API_SECRET: 's3cr3t-5' } }, 'config');
    expect(out).toMatch(/connecting/);
    for (const secret of ['s3cr3t-1', 'k3y-2', 's3cr3t-3', 't0k3n-4', 's3cr3t-5'])
      expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });
});
