import type { BaseAdapter } from '@bull-board/api/dist/queueAdapters/base.js';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
} from 'fastify-type-provider-zod';
import type { AlertIntake } from '../app/alerts.js';
import type { ReadinessView } from '../app/readiness.js';
import type { Config } from '../config.js';
import type { Logger } from '../log/logger.js';
import { type ApiOptions, apiRoutes } from './api.js';
import { bearer, refuseLockedOut, requireToken, TokenAuth } from './auth.js';
import { dashboardRoutes } from './dashboard.js';
import { Metrics, type MetricsSources } from './metrics.js';
import { BOARD_PATH, queueBoard } from './queue-board.js';
import { WEBHOOK_PATH, type WebhookOptions, webhookRoutes } from './webhook.js';

/** A socket silent this long is dropped: well past any handler's own deadline (the kill switch waits 30 s). */
const IDLE_SOCKET_MS = 120_000;

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
 * What HTTP serves from: application services and settings, made by src/composition/api-role.ts. No connection,
 * queue or exchange reaches a route.
 */
export interface HttpServices {
  readonly config: Config;
  readonly log: Logger;
  /** The REST API's services (the token check is added here). */
  readonly api: Omit<ApiOptions, 'auth'>;
  readonly readiness: ReadinessView;
  readonly metrics: MetricsSources;
  /** Records TradingView alerts and asks the worker to apply them. */
  readonly intake: AlertIntake;
  /** The webhook's checks beyond the settings: which symbols trade, and where recent bodies are remembered. */
  readonly webhook: Omit<
    WebhookOptions,
    | 'intake'
    | 'metrics'
    | 'log'
    | 'passphrase'
    | 'allowedIps'
    | 'bodyLimit'
    | 'ratePerMinute'
    | 'dedupeWindowMs'
  >;
  /** The queues, as read-only board adapters. */
  readonly board: readonly BaseAdapter[];
}

/**
 * The HTTP side on one Fastify instance: health, the TradingView webhook, the REST API (/api, OpenAPI at /docs),
 * Prometheus metrics, the queue board and the dashboard. Every surface calls the same services as the chat bots.
 */
export function buildHttpServer(services: HttpServices): HttpServer {
  const { config, log, intake } = services;
  const timeout = config.HTTP_REQUEST_TIMEOUT_MS;
  const app = Fastify({
    // Requests are logged at info by Fastify; the HTTP logger keeps warnings and errors only.
    loggerInstance: log.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: 65_536,
    // A request must arrive whole (headers and body) within HTTP_REQUEST_TIMEOUT_MS, or it is answered 408 and its
    // connection closed: a client that sends headers and stalls holds no socket for long. Node checks the deadlines
    // on a timer, which a short timeout needs finer than its 30 s default.
    requestTimeout: timeout,
    http: {
      requestTimeout: timeout,
      connectionsCheckingInterval: Math.min(1_000, Math.max(100, timeout / 4)),
    },
    connectionTimeout: Math.max(IDLE_SOCKET_MS, 2 * config.KILL_CANCEL_DEADLINE_MS),
    ...(config.HTTP_TRUST_PROXY
      ? { trustProxy: config.HTTP_TRUST_PROXY.split(',').map((s) => s.trim()) }
      : {}),
  });
  const auth = new TokenAuth(config.API_TOKEN, config.API_READONLY_TOKEN);
  if (auth.open) {
    app.addHook('onRequest', async (request, reply) => {
      const problem = openModeProblem(request);
      if (problem === null) return;
      return reply.code(403).send({
        error: `${problem}: without API_TOKEN this server serves this machine only`,
        code: 'forbidden',
      });
    });
  }
  jsonBodiesOnly(app);
  const metrics = new Metrics(services.metrics);

  app.setErrorHandler(errorHandler(log));
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

  health(app, auth, services.readiness);

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
      ...services.webhook,
      intake,
      metrics,
      log,
    });
  });

  void app.register(async (scope) => apiRoutes(scope, { auth, ...services.api }), { prefix: '/api' });

  void app.register(async (scope) => queueBoard(scope, { auth, queues: services.board }));
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
      // Fastify closes the connections idle when close begins; a keep-alive one busy then (a dashboard refreshing, a
      // Prometheus scrape) turns idle afterwards and would hold the close open until main.ts gives up after 10 s
      // (seen in 4 of 4 one-minute soak runs). Sweeping idle connections until the close ends lets it finish.
      const closing = app.close();
      const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
      try {
        await closing;
      } finally {
        clearInterval(sweep);
      }
      await intake.flushed();
    },
  };
}

/**
 * /healthz: the process answers (liveness; nothing else is asked). /readyz: Postgres and Redis answer the api, and a
 * worker recorded lately that the exchange answers it (src/app/readiness.ts); no request reaches the exchange. Without
 * a valid token the answer is the status word only; with one, each check's word and the age of the worker's record.
 * No error text either way (it is logged).
 */
function health(app: FastifyInstance, auth: TokenAuth, readiness: ReadinessView): void {
  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) =>
    reply.header('cache-control', 'no-store').send({ status: 'ok' }),
  );
  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    const token = bearer(request);
    let detailed = auth.open;
    if (!auth.open && token !== null) {
      if (await refuseLockedOut(auth, request, reply)) return reply;
      detailed = auth.check(request.ip, token) !== null;
    }
    const r = await readiness.current();
    const status = r.ready ? 'ready' : 'not-ready';
    return reply
      .code(r.ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(detailed ? { status, checks: r.checks, ageMs: r.ageMs } : { status });
  });
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Without API_TOKEN nothing asks who is calling, so nothing but this machine may call: a request that came through a
 * proxy, or names another host (DNS rebinding: evil.example resolving to 127.0.0.1), or, for a change, comes from
 * another page's script (CSRF: any site the operator's browser has open) is refused before any route sees it.
 */
export function openModeProblem(request: FastifyRequest): string | null {
  const h = request.headers;
  for (const name of PROXY_HEADERS)
    if (h[name] !== undefined) return `a request through a proxy (${name}) is refused`;
  const port = request.socket.localPort;
  const host = (h.host ?? '').toLowerCase();
  const allowed = LOOPBACK_NAMES.flatMap((n) => (port === 80 ? [n, `${n}:80`] : [`${n}:${port}`]));
  if (!allowed.includes(host)) return `Host ${printable(host) || '(none)'} is not this machine`;
  if (!SAFE_METHODS.has(request.method)) {
    const origin = h.origin;
    if (origin !== undefined && origin !== `http://${host}`)
      return `Origin ${printable(origin)} is not this server's own pages`;
    const site = h['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none')
      return `a ${printable(String(site))} request may not change anything`;
  }
  return null;
}

/**
 * Bodies are JSON (415 for any other type; the webhook and the board's sign-in form set their own). An empty JSON
 * body is no body, so `curl -X POST -H 'content-type: application/json' .../api/kill` works like one without.
 */
function jsonBodiesOnly(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const parse = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = String(body);
    if (text === '') return done(null, undefined);
    return parse(request, text, done);
  });
}

function printable(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 64 ? `${clean.slice(0, 64)}...` : clean;
}

/**
 * Every error leaves as short JSON. A client's mistake keeps its 4xx (Fastify's own: 413 too large, 415 media type,
 * 400 bad JSON or a failed schema); anything else is ours, logged and answered 500 without details.
 */
function errorHandler(log: Logger) {
  return (error: FastifyError, _request: unknown, reply: FastifyReply) => {
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
