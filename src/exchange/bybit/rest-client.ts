import { z } from 'zod';
import { BybitError, failureOfRetCode } from './errors.js';
import { queryString, signRequest } from './signing.js';

export interface BybitRestOptions {
  readonly baseUrl: string;
  readonly apiKey?: string | undefined;
  readonly apiSecret?: string | undefined;
  readonly recvWindowMs?: number;
  /** Per request; past it the call is ambiguous (the exchange may have acted). */
  readonly timeoutMs?: number;
  readonly nowMs?: () => number;
  /** Called with the outcome of every call, for the error-rate figure the risk worker reads. */
  readonly onOutcome?: (outcome: CallOutcome) => void;
}

export interface CallOutcome {
  readonly endpoint: string;
  readonly ok: boolean;
  readonly failure: BybitError['failure'] | null;
  readonly durationMs: number;
  /** Set on the outcome of a read that succeeded after this many retries. */
  readonly retried?: number;
}

export interface RateLimitStatus {
  readonly limit: number;
  readonly remaining: number;
  readonly resetAtMs: number;
}

const Envelope = z.object({
  retCode: z.number(),
  retMsg: z.string(),
  result: z.unknown(),
  retExtInfo: z.unknown().optional(),
  time: z.number().optional(),
});

type Params = Record<string, string | number | undefined>;

/**
 * A small Bybit v5 REST client on fetch: signing, the response envelope, typed failures, rate-limit headers and
 * timeouts. Money stays in the decimal strings Bybit uses. Response bodies are parsed with zod at the edge.
 */
export class BybitRestClient {
  private readonly recvWindowMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly limits = new Map<string, RateLimitStatus>();
  /** When each endpoint's recent requests went out: the client keeps under Bybit's per-second limit by itself. */
  private readonly sent = new Map<string, number[]>();

  constructor(private readonly options: BybitRestOptions) {
    this.recvWindowMs = options.recvWindowMs ?? 5000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.now = options.nowMs ?? Date.now;
  }

  rateLimit(path: string): RateLimitStatus | undefined {
    return this.limits.get(path);
  }

  publicGet<T>(path: string, params: Params, schema: z.ZodType<T>): Promise<T> {
    return this.withRetries(() => this.request('GET', path, params, schema, false));
  }

  privateGet<T>(path: string, params: Params, schema: z.ZodType<T>): Promise<T> {
    return this.withRetries(() => this.request('GET', path, params, schema, true));
  }

  /**
   * Reads change nothing, so a read that got no answer, or a busy one, is simply asked again (twice, after 100 and
   * 300 ms): a flaky moment of the exchange is a retry, and only a read still failing after its retries counts as a
   * failed call. Writes are never repeated here: their fate is settled by client order id.
   */
  private async withRetries<T>(read: () => Promise<T>): Promise<T> {
    const started = this.now();
    for (let attempt = 0; ; attempt++) {
      try {
        const value = await read();
        this.options.onOutcome?.({
          endpoint: 'read',
          ok: true,
          failure: null,
          durationMs: this.now() - started,
          retried: attempt,
        });
        return value;
      } catch (e) {
        const retryable =
          e instanceof BybitError && (e.failure.kind === 'ambiguous' || e.failure.kind === 'rate-limited');
        if (!retryable || attempt >= 2) {
          const failure =
            e instanceof BybitError ? e.failure : ({ kind: 'ambiguous', cause: 'connection' } as const);
          this.options.onOutcome?.({
            endpoint: 'read',
            ok: false,
            failure,
            durationMs: this.now() - started,
            retried: attempt,
          });
          throw e;
        }
        await sleep(attempt === 0 ? 100 : 300);
      }
    }
  }

  privatePost<T>(path: string, body: Record<string, unknown>, schema: z.ZodType<T>): Promise<T> {
    return this.request('POST', path, body, schema, true);
  }

  /** The whole envelope of a POST, for batch calls whose per-item outcomes live in retExtInfo. */
  async privatePostEnvelope(
    path: string,
    body: Record<string, unknown>,
    units = 1,
  ): Promise<z.infer<typeof Envelope>> {
    return this.send('POST', path, body, true, units);
  }

  private async request<T>(
    method: 'GET' | 'POST',
    path: string,
    params: Params | Record<string, unknown>,
    schema: z.ZodType<T>,
    signed: boolean,
  ): Promise<T> {
    const envelope = await this.send(method, path, params, signed);
    const parsed = schema.safeParse(envelope.result);
    if (!parsed.success) {
      throw new BybitError(
        { kind: 'rejected', reason: 'other' },
        `Bybit ${path}: unexpected response (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`,
      );
    }
    return parsed.data;
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    params: Params | Record<string, unknown>,
    signed: boolean,
    units = 1,
  ): Promise<z.infer<typeof Envelope>> {
    if (signed) await this.throttle(path, units);
    const started = this.now();
    // Reads report their outcome once, after their retries (withRetries); writes report here.
    const outcome = (ok: boolean, failure: BybitError['failure'] | null) => {
      if (method === 'POST')
        this.options.onOutcome?.({ endpoint: path, ok, failure, durationMs: this.now() - started });
    };
    const query = method === 'GET' ? queryString(params as Params) : '';
    const body = method === 'POST' ? JSON.stringify(params) : undefined;
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (signed) {
      const { apiKey, apiSecret } = this.options;
      if (!apiKey || !apiSecret) {
        throw new BybitError(
          { kind: 'auth', reason: 'bad-key' },
          'BYBIT_API_KEY and BYBIT_API_SECRET are needed for this call',
        );
      }
      const timestamp = this.now();
      headers['X-BAPI-API-KEY'] = apiKey;
      headers['X-BAPI-TIMESTAMP'] = String(timestamp);
      headers['X-BAPI-RECV-WINDOW'] = String(this.recvWindowMs);
      headers['X-BAPI-SIGN'] = signRequest(
        apiSecret,
        timestamp,
        apiKey,
        this.recvWindowMs,
        method === 'GET' ? query : body!,
      );
    }
    const url = `${this.options.baseUrl.replace(/\/$/, '')}${path}${query ? `?${query}` : ''}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const timeout = (e as Error).name === 'TimeoutError' || (e as Error).name === 'AbortError';
      const failure = { kind: 'ambiguous', cause: timeout ? 'timeout' : 'connection' } as const;
      outcome(false, failure);
      throw new BybitError(
        failure,
        `Bybit ${path}: ${timeout ? `no answer within ${this.timeoutMs} ms` : (e as Error).message}`,
      );
    }
    this.recordLimits(path, response.headers);
    const text = await response.text();
    if (response.status >= 500 || response.status === 429) {
      const failure =
        response.status === 429
          ? ({ kind: 'rate-limited', retryAfterMs: 1000 } as const)
          : ({ kind: 'ambiguous', cause: 'http-5xx' } as const);
      outcome(false, failure);
      throw new BybitError(failure, `Bybit ${path}: HTTP ${response.status}`, null, response.status);
    }
    if (response.status === 403) {
      const failure = { kind: 'auth', reason: 'ip-banned' } as const;
      outcome(false, failure);
      throw new BybitError(failure, `Bybit ${path}: HTTP 403 (IP rate limit or region)`, null, 403);
    }
    if (response.status === 401) {
      const failure = { kind: 'auth', reason: 'bad-key' } as const;
      outcome(false, failure);
      throw new BybitError(failure, `Bybit ${path}: HTTP 401`, null, 401);
    }
    let envelope: z.infer<typeof Envelope>;
    try {
      envelope = Envelope.parse(JSON.parse(text));
    } catch {
      const failure = { kind: 'ambiguous', cause: 'http-5xx' } as const;
      outcome(false, failure);
      throw new BybitError(
        failure,
        `Bybit ${path}: HTTP ${response.status} with a body that is not Bybit's envelope`,
      );
    }
    if (envelope.retCode !== 0) {
      const reset = Number(response.headers.get('x-bapi-limit-reset-timestamp')) || null;
      const failure = failureOfRetCode(envelope.retCode, reset, this.now());
      outcome(false, failure);
      throw new BybitError(
        failure,
        `Bybit ${path}: ${envelope.retCode} ${envelope.retMsg}`,
        envelope.retCode,
        response.status,
      );
    }
    outcome(true, null);
    return envelope;
  }

  /**
   * Waits for room under the endpoint's limit: the limit Bybit last announced (X-Bapi-Limit, 20/s for order
   * endpoints by default) in a rolling second, and until the announced reset when Bybit said none was left.
   */
  private async throttle(path: string, units: number): Promise<void> {
    for (;;) {
      const now = Date.now();
      const known = this.limits.get(path);
      if (known && known.remaining <= 0 && known.resetAtMs > now) {
        await sleep(Math.min(known.resetAtMs - now, 1000));
        this.limits.delete(path);
        continue;
      }
      // A tenth below the limit, over a slightly longer second: requests arrive with jitter, and Bybit counts arrivals.
      const limit = Math.max(
        units,
        Math.floor((known?.limit ?? (path.startsWith('/v5/order/') ? 20 : 50)) * 0.9),
      );
      const windowMs = 1100;
      const recent = (this.sent.get(path) ?? []).filter((t) => now - t < windowMs);
      // Bybit counts a batch as one request per order in it.
      if (recent.length + units <= limit) {
        for (let i = 0; i < units; i++) recent.push(now);
        this.sent.set(path, recent);
        return;
      }
      await sleep(windowMs - (now - recent[0]!) + 1);
    }
  }

  private recordLimits(path: string, headers: Headers): void {
    const limit = Number(headers.get('x-bapi-limit'));
    const remaining = Number(headers.get('x-bapi-limit-status'));
    const resetAtMs = Number(headers.get('x-bapi-limit-reset-timestamp'));
    if (Number.isFinite(limit) && headers.has('x-bapi-limit'))
      this.limits.set(path, { limit, remaining, resetAtMs });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
