import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../log/logger.js';

export interface HealthChecks {
  /** Each named dependency answers or throws. */
  readonly checks: Record<string, () => Promise<unknown>>;
}

/** The HTTP side: health now; the REST API, webhooks and dashboard attach here. */
export function buildHttpServer(log: Logger, health: HealthChecks): FastifyInstance {
  const app = Fastify({
    // Requests are logged at info by Fastify; the HTTP logger keeps warnings and errors only.
    loggerInstance: log.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: 65_536,
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const results = await Promise.all(
      Object.entries(health.checks).map(async ([name, check]) => {
        try {
          await check();
          return [name, 'ok'] as const;
        } catch (e) {
          return [name, `down: ${(e as Error).message}`] as const;
        }
      }),
    );
    const ready = results.every(([, s]) => s === 'ok');
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not-ready', checks: Object.fromEntries(results) });
  });
  return app;
}
