import { httpServices } from '../../src/composition/api-role.js';
import type { App } from '../../src/composition/app.js';
import type { Config } from '../../src/config.js';
import { buildHttpServer, type HttpServer } from '../../src/http/server.js';

export const OPERATOR_TOKEN = 'operator-token-for-tests-0123456789';
export const READONLY_TOKEN = 'readonly-token-for-tests-0123456789';
export const PASSPHRASE = 'tv-passphrase-for-tests';

/** Settings the HTTP tests run with (passed to startTestApp). */
export const HTTP_ENV: Record<string, string> = {
  API_TOKEN: OPERATOR_TOKEN,
  API_READONLY_TOKEN: READONLY_TOKEN,
  TV_PASSPHRASE: PASSPHRASE,
  TV_RATE_LIMIT: '1000000',
};

export interface TestHttp {
  readonly url: string;
  readonly server: HttpServer;
  close(): Promise<void>;
}

/**
 * The app's HTTP server on a free loopback port, over the test app's runtime; `config` overrides settings for this
 * server only (another passphrase, an allowlist), so one runtime serves several variants.
 */
export async function startTestHttp(
  rt: App,
  config: Partial<Record<keyof Config, unknown>> = {},
): Promise<TestHttp> {
  const server = buildHttpServer(httpServices({ ...rt, config: { ...rt.config, ...config } as Config }));
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  return { url, server, close: () => server.close() };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export { until } from './wait.js';
