import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { Queue } from 'bullmq';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
} from 'fastify-type-provider-zod';
import { AlertIntake, type AlertQueue } from '../app/alerts.js';
import { QUEUES } from '../jobs/queues.js';
import type { Logger } from '../log/logger.js';
import type { Runtime } from '../runtime.js';
import { apiRoutes } from './api.js';
import { requireToken, TokenAuth } from './auth.js';
import { dashboardRoutes } from './dashboard.js';
import { Metrics } from './metrics.js';
import { BOARD_PATH, queueBoard } from './queue-board.js';
import { WEBHOOK_PATH, webhookRoutes } from './webhook.js';

export interface HealthChecks {
  /** Each named dependency answers or throws. */
  readonly checks: Record<string, () => Promise<unknown>>;
}

export interface HttpServer {
  readonly app: FastifyInstance;
  readonly auth: TokenAuth;
  readonly metrics: Metrics;
  /** One line for the start-up log: what is served, and what is switched off. */
  readonly summary: string;
  /** Stops taking requests, finishes those in flight, and hands the last recorded alerts to the queue. */
  close(): Promise<void>;
}

/**
 * Asks the `alerts` queue for a run. Deduplicated: while a run waits, another request adds nothing (the waiting run
 * will see these alerts, recorded before it starts); while one runs, BullMQ keeps the request and adds a run when it
 * finishes. So no recorded alert waits for the sweep. The intake asks at most once per TV_APPLY_DELAY_MS, so under a
 * burst each run applies everything recorded meanwhile. The data names the alerts that asked, for the queue board.
 */
export function alertQueue(queue: Queue): AlertQueue {
  return {
    async enqueue(alerts) {
      if (alerts.length === 0) return;
      await queue.add(
        'alerts',
        { alertIds: alerts.map((a) => a.id), symbols: [...new Set(alerts.map((a) => a.symbol))].sort() },
        { deduplication: { id: 'apply-alerts', keepLastIfActive: true } },
      );
    },
  };
}

/**
 * The HTTP side on one Fastify instance: health, the TradingView webhook, the REST API (/api, OpenAPI at /docs),
 * Prometheus metrics, the queue board and the dashboard. Every surface calls the same services as the chat bots.
 */
export function buildHttpServer(rt: Runtime): HttpServer {
  const { config } = rt;
  const app = Fastify({
    // Requests are logged at info by Fastify; the HTTP logger keeps warnings and errors only.
    loggerInstance: rt.log.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: 65_536,
    ...(config.HTTP_TRUST_PROXY
      ? { trustProxy: config.HTTP_TRUST_PROXY.split(',').map((s) => s.trim()) }
      : {}),
  });
  const auth = new TokenAuth(config.API_TOKEN, config.API_READONLY_TOKEN);
  const metrics = new Metrics({
    ds: rt.ds,
    queues: rt.queues,
    isKilled: () => rt.risk.isKilled(),
    latestRisk: () => rt.monitor.latest(),
  });
  const intake = new AlertIntake({
    ds: rt.ds,
    queue: alertQueue(rt.queues[QUEUES.alerts]),
    log: rt.log,
    applyDelayMs: config.TV_APPLY_DELAY_MS,
  });

  app.setErrorHandler(errorHandler(rt.log));
  app.setNotFoundHandler(async (_request, reply) =>
    reply.code(404).send({ error: 'no such route', code: 'not-found' }),
  );

  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'GridOps API',
        version: '1',
        description:
          'Grid-trading bot control. Send `Authorization: Bearer <token>`: API_TOKEN may do everything, ' +
          'API_READONLY_TOKEN may only read. Money and prices are decimal strings.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: (input) =>
      input.url.startsWith(BOARD_PATH) || input.url.startsWith('/docs')
        ? { schema: { ...input.schema, hide: true }, url: input.url }
        : jsonSchemaTransform(input),
    // Schemas with an id (Grid, Risk, ...) become named components, referenced from every route.
    transformObject: jsonSchemaTransformObject,
  });
  void app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  health(app, {
    checks: {
      postgres: () => rt.ds.query('SELECT 1'),
      redis: () => rt.redis.ping(),
      exchange: () => rt.exchange.balances(),
    },
  });

  void app.register(async (scope) => {
    scope.addHook('onRequest', requireToken(auth, 'read'));
    scope.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      const { contentType, body } = await metrics.text();
      return reply.type(contentType).send(body);
    });
  });

  void app.register(async (scope) => {
    // The webhook's schemas only document it: the handler parses the body itself (text that may or may not be
    // JSON), and its answers are small objects it builds.
    scope.setValidatorCompiler(() => (value) => ({ value }));
    scope.setSerializerCompiler(() => (data) => JSON.stringify(data));
    await webhookRoutes(scope, {
      passphrase: config.TV_PASSPHRASE,
      allowedIps: config.TV_ALLOWED_IPS,
      bodyLimit: config.TV_BODY_LIMIT,
      ratePerMinute: config.TV_RATE_LIMIT,
      dedupeWindowMs: config.TV_DEDUPE_WINDOW_MS,
      redis: rt.redis,
      prefix: config.QUEUE_PREFIX,
      knownSymbol: (symbol) => rt.exchange.instrument(symbol) !== undefined,
      intake,
      metrics,
      log: rt.log,
    });
  });

  void app.register(
    async (scope) =>
      apiRoutes(scope, {
        auth,
        ds: rt.ds,
        grids: rt.grids,
        risk: rt.risk,
        views: rt.views,
        prices: rt.prices,
        market: rt.market,
      }),
    { prefix: '/api' },
  );

  void app.register(async (scope) => queueBoard(scope, { auth, queues: Object.values(rt.queues) }));
  void app.register(async (scope) => dashboardRoutes(scope));

  const summary = [
    '/ (dashboard)',
    '/api',
    '/docs',
    '/metrics',
    `${BOARD_PATH} (queue board)`,
    `${WEBHOOK_PATH}${config.TV_PASSPHRASE ? '' : ' (disabled: TV_PASSPHRASE unset)'}`,
    '/healthz',
    '/readyz',
  ].join(', ');
  return {
    app,
    auth,
    metrics,
    summary,
    async close() {
      await app.close();
      await intake.flushed();
    },
  };
}

function health(app: FastifyInstance, health: HealthChecks): void {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
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
}

/**
 * Every error leaves as short JSON. A client's mistake keeps its 4xx (Fastify's own: 413 too large, 415 media type,
 * 400 bad JSON or a failed schema); anything else is ours, logged and answered 500 without details.
 */
function errorHandler(log: Logger) {
  return (error: FastifyError, _request: unknown, reply: import('fastify').FastifyReply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const detail = error.validation
        .slice(0, 3)
        .map(
          (v) =>
            `${v.instancePath.replace(/^\//, '').replaceAll('/', '.') || error.validationContext}: ${v.message}`,
        )
        .join('; ');
      return reply
        .code(400)
        .send({ error: `invalid ${error.validationContext ?? 'request'}: ${detail}`, code: 'invalid' });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const message = error.message.length > 160 ? `${error.message.slice(0, 160)}...` : error.message;
      return reply.code(status).send({ error: message, code: codeOf(status) });
    }
    log.error({ err: error }, `HTTP: ${error.message}`);
    return reply.code(500).send({ error: 'internal error', code: 'internal' });
  };
}

function codeOf(status: number): string {
  const codes: Record<number, string> = {
    400: 'malformed',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'not-found',
    405: 'method-not-allowed',
    413: 'too-large',
    415: 'unsupported-type',
    429: 'rate-limited',
  };
  return codes[status] ?? 'client-error';
}
