import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyCheck, apiKeyWarnings } from '../../src/app/api-key-check.js';
import { PgApiKeyChecks } from '../../src/db/api-key-store.js';
import { BybitApi } from '../../src/exchange/bybit/api.js';
import { BybitKeyInspector } from '../../src/exchange/bybit/key-check.js';
import { BybitRestClient } from '../../src/exchange/bybit/rest-client.js';
import { createLogger } from '../../src/log/logger.js';
import type { FakeBybit } from '../fakes/bybit/server.js';
import { startBtcFake } from '../support/bybit.js';
import { migratedDatabase, type TestDatabase } from '../support/services.js';

const KEY = 'key-check-key';
const SECRET = 'key-check-secret';
const HOST = '127.0.0.1';
const DAY_MS = 86_400_000;
const log = createLogger({ level: 'silent', format: 'json', isTty: false });

/** The key check through its ports: Bybit's key info judged by the adapter, the latest check kept in Postgres. */
describe('the API key check against the fake Bybit', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let fake: FakeBybit;

  const check = (secret = SECRET, mode: 'testnet' | 'demo' = 'testnet') =>
    new ApiKeyCheck({
      inspector: new BybitKeyInspector(
        new BybitApi(new BybitRestClient({ baseUrl: fake.url, apiKey: KEY, apiSecret: secret })),
        HOST,
      ),
      checks: new PgApiKeyChecks(ds),
      mode,
      host: HOST,
      log,
    });
  const refusal = (e: unknown) => ({ code: (e as { code?: string }).code, message: (e as Error).message });

  beforeAll(async () => {
    ({ db, ds } = await migratedDatabase());
    fake = await startBtcFake(KEY, SECRET);
  });
  afterAll(async () => {
    await fake?.close();
    await ds?.destroy();
    await db?.drop();
  });

  it('refuses a read-only key, and says what to fix when the exchange refuses the credentials', async () => {
    fake.apiKeyInfo.readOnly = 1;
    expect(
      refusal(
        await check()
          .atStart()
          .catch((e: unknown) => e),
      ),
    ).toEqual({
      code: 'BYBIT_KEY',
      message:
        'the Bybit API key for 127.0.0.1 is read-only: create a key with Spot trade permission (SpotTrade) and no Wallet permissions',
    });
    fake.apiKeyInfo.readOnly = 0;
    expect(
      refusal(
        await check('wrong-secret')
          .atStart()
          .catch((e: unknown) => e),
      ),
    ).toEqual({
      code: 'BYBIT_AUTH',
      message: 'Bybit rejected the request signature: check BYBIT_API_SECRET',
    });
    // Nothing was checked, so there is nothing to report.
    expect(await apiKeyWarnings(new PgApiKeyChecks(ds), new Date())).toEqual([]);
  });

  it('keeps the warnings of a key it lets trade, and counts its expiry down for the daily report', async () => {
    Object.assign(fake.apiKeyInfo, { ips: ['*'], deadlineDay: 9 });
    await check().atStart();
    const unbound =
      "the Bybit API key for 127.0.0.1 is bound to no IP address (anyone who holds it can use it, and it expires): create one bound to this server's IP";
    const expires = (days: number) =>
      `the Bybit API key for 127.0.0.1 expires in ${days} days: every call fails after that; create a new one bound to this server's IP (such keys do not expire)`;
    const checks = new PgApiKeyChecks(ds);
    expect(await apiKeyWarnings(checks, new Date())).toEqual([unbound, expires(9)]);
    expect(await apiKeyWarnings(checks, new Date(Date.now() + 6 * DAY_MS))).toEqual([unbound, expires(3)]);
    expect(await checks.latest()).toMatchObject({ host: HOST, warnings: [unbound], deadlineDay: 9 });
  });

  it('a refresh that cannot reach the key keeps that as the warning, and never throws', async () => {
    fake.apiKeyInfo.unsupported = true;
    try {
      await check().refresh();
    } finally {
      fake.apiKeyInfo.unsupported = false;
    }
    const [line, ...rest] = await apiKeyWarnings(new PgApiKeyChecks(ds), new Date());
    expect(line).toMatch(/^the Bybit API key for 127\.0\.0\.1 could not be checked today \(/);
    expect(rest).toEqual([]);
  });
});
