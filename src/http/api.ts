import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Actor, ServiceError } from '../app/actor.js';
import type { Deliveries } from '../app/deliveries.js';
import type { GridService } from '../app/grid-service.js';
import { PNL_PERIOD_NAMES, pnlChartPoints, type Reports } from '../app/reports.js';
import type { RiskService } from '../app/risk-service.js';
import type { PnlPeriod, PnlReport, TradeView, Views } from '../app/views.js';
import { renderPnlChart } from '../charts/pnl.js';
import type { Result } from '../engine/result.js';
import type { CoinGecko } from '../market/coingecko.js';
import type { PriceCache } from '../market/price-cache.js';
import { requireToken, type TokenAuth } from './auth.js';
import {
  AlertList,
  CreateGridBody,
  DeliveriesRetried,
  ErrorBody,
  Grid,
  GridList,
  GridRef,
  Incident,
  KILL_DEFAULT_REASON,
  KillBody,
  LimitQuery,
  Market,
  Pnl,
  PnlQuery,
  PriceList,
  ResetResult,
  Risk,
  TRADE_CSV_COLUMNS,
  TradeCsv,
  TradeCsvQuery,
  TradeList,
  TradeQuery,
  WhoAmI,
} from './schemas.js';

export interface ApiOptions {
  readonly auth: TokenAuth;
  /** P/L, its chart's figures and the latest alerts. */
  readonly reports: Pick<Reports, 'pnl' | 'recentAlerts'>;
  readonly grids: GridService;
  readonly risk: RiskService;
  readonly views: Views;
  readonly prices: PriceCache;
  readonly market: CoinGecko;
  readonly deliveries: Deliveries;
}

const STATUS: Record<ServiceError['kind'], 403 | 404 | 422 | 409 | 503> = {
  forbidden: 403,
  'not-found': 404,
  invalid: 422,
  conflict: 409,
  unavailable: 503,
};

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  422: ErrorBody,
  503: ErrorBody,
};

const security = [{ bearer: [] }];
const MARKET_RETRY_MS = 60_000;
const CHART_TTL_MS = 10_000;

/** The REST API under /api: reads for either token, changes for the operator's. */
export async function apiRoutes(app: FastifyInstance, o: ApiOptions): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onRequest', requireToken(o.auth));
  const r = app.withTypeProvider<ZodTypeProvider>();
  const actor = (request: FastifyRequest): Actor => request.actor!;

  r.get(
    '/whoami',
    {
      schema: {
        tags: ['auth'],
        summary: 'The role of the token sent',
        security,
        response: { 200: WhoAmI, ...errors },
      },
    },
    async (request) => ({
      role: actor(request).role,
      auth: o.auth.open ? ('none' as const) : ('token' as const),
    }),
  );

  r.get(
    '/grids',
    { schema: { tags: ['grids'], summary: 'Every grid', security, response: { 200: GridList, ...errors } } },
    async (request, reply) => {
      const listed = await o.grids.list(actor(request));
      if (!listed.ok) return failure(reply, listed.error);
      return { grids: listed.value };
    },
  );

  r.get(
    '/grids/:symbol',
    {
      schema: {
        tags: ['grids'],
        summary: 'One grid, by id, name or symbol',
        security,
        params: GridRef,
        response: { 200: Grid, ...errors },
      },
    },
    async (request, reply) => settle(reply, await o.grids.get(actor(request), request.params.symbol)),
  );

  r.post(
    '/grids',
    {
      schema: {
        tags: ['grids'],
        summary: 'Create a grid (started at once unless start is false)',
        security,
        body: CreateGridBody,
        response: { 201: Grid, ...errors },
      },
    },
    async (request, reply) => settle(reply, await o.grids.create(actor(request), request.body, 'rest'), 201),
  );

  for (const op of ['start', 'pause', 'resume', 'stop'] as const) {
    r.post(
      `/grids/:symbol/${op}`,
      {
        schema: {
          tags: ['grids'],
          summary: `${op[0]!.toUpperCase()}${op.slice(1)} a grid`,
          security,
          params: GridRef,
          response: { 200: Grid, ...errors },
        },
      },
      async (request, reply) => settle(reply, await o.grids[op](actor(request), request.params.symbol)),
    );
  }

  r.get(
    '/risk',
    {
      schema: {
        tags: ['risk'],
        summary: 'Kill switch, drawdown, error rate, breakers',
        security,
        response: { 200: Risk, ...errors },
      },
    },
    async () => {
      const v = await o.views.risk();
      return {
        killed: v.killed,
        killedAt: v.killedAt,
        trigger: v.trigger,
        drawdownPct: v.latest?.drawdownPct ?? null,
        drawdownLevel: v.latest?.drawdownLevel ?? null,
        errorRate: v.latest?.errorRatePct ?? null,
        errorRateLevel: v.latest?.errorRateLevel ?? null,
        equity: v.latest?.equity ?? null,
        peak: v.latest?.peak ?? null,
        breakers: [...v.breakers],
        measuredAt: v.latest?.at ?? null,
        lastIncident: v.lastIncident,
      };
    },
  );

  r.post(
    '/kill',
    {
      schema: {
        tags: ['risk'],
        summary: 'Pull the kill switch: stop every grid and cancel every order',
        description:
          `No body is needed (\`curl -X POST -H "Authorization: Bearer $API_TOKEN" .../api/kill\`); the reason ` +
          `defaults to "${KILL_DEFAULT_REASON}".`,
        security,
        // Fastify gives a request without a body a null one.
        body: KillBody.nullish(),
        response: { 200: Incident, ...errors },
      },
    },
    async (request, reply) => {
      const reason = request.body?.reason?.trim() || KILL_DEFAULT_REASON;
      return settle(reply, await o.risk.kill(actor(request), reason));
    },
  );

  r.post(
    '/reset',
    {
      schema: {
        tags: ['risk'],
        summary: 'Turn the kill switch off (grids stay stopped)',
        security,
        response: { 200: ResetResult, ...errors },
      },
    },
    async (request, reply) => {
      const done = await o.risk.reset(actor(request));
      if (!done.ok) return failure(reply, done.error);
      return { killed: done.value.killed };
    },
  );

  r.post(
    '/deliveries/retry',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Send the notification deliveries that gave up again (after fixing their cause); audited',
        security,
        response: { 200: DeliveriesRetried, ...errors },
      },
    },
    async (request, reply) => settle(reply, await o.deliveries.retryFailed(actor(request))),
  );

  r.get(
    '/prices',
    {
      schema: {
        tags: ['market'],
        summary: 'Last price of each symbol',
        security,
        response: { 200: PriceList, ...errors },
      },
    },
    async () => ({
      prices: (await o.prices.all())
        .sort((a, b) => a.symbol.localeCompare(b.symbol))
        .map((p) => ({ symbol: p.symbol, price: p.price, at: new Date(p.atMs).toISOString() })),
    }),
  );

  r.get(
    '/trades',
    {
      schema: {
        tags: ['history'],
        summary: 'Latest fills, newest first',
        security,
        querystring: TradeQuery,
        response: { 200: TradeList, ...errors },
      },
    },
    async (request) => ({ trades: await o.views.trades(request.query.limit, request.query.symbol) }),
  );

  r.get(
    '/trades.csv',
    {
      schema: {
        tags: ['history'],
        summary: 'Every fill, oldest first, as CSV: for accounting, and to match with the exchange',
        description:
          'RFC 4180 (a header row, CRLF line ends, fields with a comma, quote or line break quoted), UTF-8. ' +
          `Columns: ${TRADE_CSV_COLUMNS.join(', ')}. Times are UTC ISO 8601, money the exact decimals. ` +
          'order_id is empty for an old fill whose order never learned it. Streamed: any number of fills.',
        security,
        querystring: TradeCsvQuery,
        response: {
          200: { description: 'The fills', content: { 'text/csv': { schema: TradeCsv } } },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { symbol, from, to } = request.query;
      // A stream goes out as it is (Fastify serializes no stream); the type provider only knows the schema's string.
      const csv = Readable.from(tradesCsv(o.views.tradePages({ symbol, from, to }))) as unknown as string;
      return reply
        .type('text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="gridops-trades${symbol ? `-${symbol}` : ''}.csv"`,
        )
        .header('cache-control', 'no-store')
        .send(csv);
    },
  );

  r.get(
    '/alerts',
    {
      schema: {
        tags: ['history'],
        summary: 'Latest webhook alerts and what they did, newest first',
        security,
        querystring: LimitQuery,
        response: { 200: AlertList, ...errors },
      },
    },
    async (request) => ({ alerts: await o.reports.recentAlerts(request.query.limit) }),
  );

  r.get(
    '/pnl',
    {
      schema: {
        tags: ['history'],
        summary: 'P/L over a period, with points to draw and figures per grid',
        security,
        querystring: PnlQuery,
        response: { 200: Pnl, ...errors },
      },
    },
    async (request) => {
      const report = await o.reports.pnl(request.query.period, Date.now());
      return { ...report, points: [...report.points], grids: [...report.grids] };
    },
  );

  const charts = new Map<PnlPeriod, { atMs: number; png: Buffer }>();
  r.get(
    '/pnl.png',
    {
      schema: {
        tags: ['history'],
        summary: 'The P/L chart of a period (PNG): equity and cumulative net profit',
        security,
        querystring: PnlQuery,
      },
    },
    async (request, reply) => {
      const { period } = request.query;
      const cached = charts.get(period);
      // Drawing takes tens of milliseconds on the event loop: dashboards polling it share one drawing.
      const png =
        cached && Date.now() - cached.atMs < CHART_TTL_MS
          ? cached.png
          : pnlPng(await o.reports.pnl(period, Date.now()));
      if (cached?.png !== png) charts.set(period, { atMs: Date.now(), png });
      return reply.type('image/png').header('cache-control', 'no-store').send(png);
    },
  );

  let marketFailure: { atMs: number; message: string } | null = null;
  r.get(
    '/market',
    {
      schema: {
        tags: ['market'],
        summary: 'Market overview: top coins, movers, trending (CoinGecko)',
        security,
        response: { 200: Market, ...errors },
      },
    },
    async () => {
      const empty = { top: [], gainers: [], losers: [], trending: [] };
      // Without internet each call would wait for its timeout: after a failure, say so at once for a minute.
      if (marketFailure && Date.now() - marketFailure.atMs < MARKET_RETRY_MS) {
        return { available: false, error: marketFailure.message, ...empty };
      }
      try {
        const [top, movers, trending] = await Promise.all([
          o.market.topMarkets(10),
          o.market.topMovers(5),
          o.market.trending(),
        ]);
        marketFailure = null;
        return { available: true, error: null, top, ...movers, trending };
      } catch (e) {
        marketFailure = { atMs: Date.now(), message: `market data unavailable: ${(e as Error).message}` };
        return { available: false, error: marketFailure.message, ...empty };
      }
    },
  );
}

/** RFC 4180: a field holding a comma, a quote or a line break is quoted, its quotes doubled; lines end in CRLF. */
function csvLine(fields: readonly (string | null)[]): string {
  const field = (f: string | null) =>
    f === null ? '' : /[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f;
  return `${fields.map(field).join(',')}\r\n`;
}

/** The header, then one chunk per page of fills: the response holds one page at a time. */
async function* tradesCsv(pages: AsyncIterable<TradeView[]>): AsyncGenerator<string> {
  yield csvLine(TRADE_CSV_COLUMNS);
  for await (const page of pages)
    yield page
      .map((t) =>
        csvLine([
          t.at,
          t.gridId,
          t.symbol,
          t.side,
          t.price,
          t.qty,
          t.fee,
          t.feeCoin,
          t.net,
          t.execId,
          t.orderId,
          t.clientOrderId,
        ]),
      )
      .join('');
}

function failure(reply: FastifyReply, error: ServiceError) {
  return reply.code(STATUS[error.kind]).send({ error: error.message, code: error.kind });
}

function settle<T>(reply: FastifyReply, result: Result<T, ServiceError>, code = 200) {
  if (!result.ok) return failure(reply, result.error);
  return reply.code(code).send(result.value);
}

/** The P/L chart, from the first equity measurement of the period on. */
export function pnlPng(report: PnlReport): Buffer {
  const points = pnlChartPoints(report, 'skip');
  return renderPnlChart({ title: `P/L: ${PNL_PERIOD_NAMES[report.period]}`, points, currency: 'USDT' });
}
