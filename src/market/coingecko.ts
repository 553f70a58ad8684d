/** Market overview for the chat's /market, not trading; cached: the free plan allows few calls a minute. */
import { Decimal } from 'decimal.js';
import { z } from 'zod';

export interface CoinGeckoOptions {
  /** Default https://api.coingecko.com/api/v3, or https://pro-api.coingecko.com/api/v3 when keyType is 'pro'. */
  baseUrl?: string;
  apiKey?: string;
  /** Which header carries apiKey: x-cg-demo-api-key (default) or x-cg-pro-api-key. */
  keyType?: 'demo' | 'pro';
  /** How long an answer is fresh, per URL. Default 60_000. */
  cacheTtlMs?: number;
  /** Per request, headers and body. Default 8000. */
  timeoutMs?: number;
  nowMs?: () => number;
}

export interface SimplePrice {
  id: string;
  usd: string;
  change24hPct: string | null;
}

export interface MarketCoin {
  id: string;
  /** Upper case, as the chat shows it (CoinGecko gives it lower case here). */
  symbol: string;
  name: string;
  price: string;
  change24hPct: string | null;
  marketCap: string | null;
  volume24h: string | null;
  rank: number | null;
}

export interface TrendingCoin {
  id: string;
  /** Upper case. */
  symbol: string;
  name: string;
  rank: number | null;
  priceBtc: string | null;
}

export type CoinGeckoErrorKind = 'rate-limited' | 'unavailable' | 'bad-key' | 'bad-response';

export class CoinGeckoError extends Error {
  override readonly name = 'CoinGeckoError';

  constructor(
    readonly kind: CoinGeckoErrorKind,
    message: string,
    /** From Retry-After (seconds) on 429/503, else null. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

const PUBLIC_ROOT = 'https://api.coingecko.com/api/v3';
const PRO_ROOT = 'https://pro-api.coingecko.com/api/v3';
/** 10002 key missing/invalid, 10010 pro key on the public host, 10011 demo key on the pro host (protocols.md 6). */
const BAD_KEY_CODES = new Set([10002, 10010, 10011]);
const MAX_CACHE_ENTRIES = 200;
const MOVERS_UNIVERSE = 100;

const num = z.number();
const optNum = z.number().nullable().optional();

const simplePriceSchema = z.record(
  z.string(),
  z.object({ usd: num.optional(), usd_24h_change: optNum }).nullable(),
);

const marketsSchema = z.array(
  z.object({
    id: z.string(),
    symbol: z.string(),
    name: z.string(),
    current_price: optNum,
    market_cap: optNum,
    market_cap_rank: z.number().int().nullable().optional(),
    total_volume: optNum,
    price_change_percentage_24h: optNum,
    price_change_percentage_24h_in_currency: optNum,
  }),
);

const trendingSchema = z.object({
  coins: z.array(
    z.object({
      item: z.object({
        id: z.string(),
        symbol: z.string(),
        name: z.string(),
        market_cap_rank: z.number().int().nullable().optional(),
        price_btc: optNum,
      }),
    }),
  ),
});

const errorBodySchema = z.union([
  z.object({ status: z.object({ error_code: z.number(), error_message: z.string().optional() }) }),
  z.object({ error: z.string() }),
]);

type Markets = z.infer<typeof marketsSchema>;

interface CacheEntry {
  readonly value: unknown;
  readonly atMs: number;
}

export class CoinGecko {
  private readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly keyHeader: string;
  private readonly ttlMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(options: CoinGeckoOptions = {}) {
    const pro = options.keyType === 'pro';
    this.baseUrl = (options.baseUrl ?? (pro ? PRO_ROOT : PUBLIC_ROOT)).replace(/\/+$/, '');
    this.apiKey = options.apiKey === '' ? undefined : options.apiKey;
    this.keyHeader = pro ? 'x-cg-pro-api-key' : 'x-cg-demo-api-key';
    this.ttlMs = options.cacheTtlMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 8000;
    this.now = options.nowMs ?? Date.now;
  }

  /** USD prices of the given CoinGecko ids, in the order asked; ids CoinGecko does not know are left out. */
  async simplePrices(ids: string[]): Promise<SimplePrice[]> {
    const wanted = [...new Set(ids.map((id) => id.trim()).filter((id) => id !== ''))];
    if (wanted.length === 0) return [];
    // Sorted in the URL so that the same set of ids shares one cache entry whatever the order asked.
    const body = await this.get('/simple/price', simplePriceSchema, {
      ids: [...wanted].sort().join(','),
      vs_currencies: 'usd',
      include_24hr_change: 'true',
    });
    const out: SimplePrice[] = [];
    for (const id of wanted) {
      const entry = body[id];
      if (entry?.usd === undefined) continue;
      out.push({ id, usd: dec(entry.usd), change24hPct: decOrNull(entry.usd_24h_change) });
    }
    return out;
  }

  /** The `limit` (1..250, default 10) largest coins by market cap, largest first. */
  async topMarkets(limit = 10): Promise<MarketCoin[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > 250) {
      throw new RangeError(`topMarkets: limit must be an integer in 1..250, got ${limit}`);
    }
    return toMarketCoins(await this.markets(limit));
  }

  /**
   * The biggest 24 h risers and fallers (up to `limit` each, default 5) among the top 100 by market cap:
   * gainers by change descending, losers by change ascending; coins without a change, or unchanged, are in neither.
   */
  async topMovers(limit = 5): Promise<{ gainers: MarketCoin[]; losers: MarketCoin[] }> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`topMovers: limit must be a positive integer, got ${limit}`);
    }
    const coins = toMarketCoins(await this.markets(MOVERS_UNIVERSE));
    const withChange = coins.filter(
      (c): c is MarketCoin & { change24hPct: string } => c.change24hPct !== null,
    );
    const byChange = (a: { change24hPct: string }, b: { change24hPct: string }): number =>
      new Decimal(a.change24hPct).comparedTo(b.change24hPct);
    const gainers = withChange
      .filter((c) => new Decimal(c.change24hPct).gt(0))
      .sort((a, b) => byChange(b, a))
      .slice(0, limit);
    const losers = withChange
      .filter((c) => new Decimal(c.change24hPct).lt(0))
      .sort(byChange)
      .slice(0, limit);
    return { gainers, losers };
  }

  /** CoinGecko's trending search coins, in its order. */
  async trending(): Promise<TrendingCoin[]> {
    const body = await this.get('/search/trending', trendingSchema, {});
    return body.coins.map(({ item }) => ({
      id: item.id,
      symbol: item.symbol.toUpperCase(),
      name: item.name,
      rank: item.market_cap_rank ?? null,
      priceBtc: decOrNull(item.price_btc),
    }));
  }

  private markets(perPage: number): Promise<Markets> {
    return this.get('/coins/markets', marketsSchema, {
      vs_currency: 'usd',
      order: 'market_cap_desc',
      per_page: String(perPage),
      page: '1',
      price_change_percentage: '24h',
    });
  }

  /**
   * A fresh cached answer, else one from the API (concurrent callers of one URL share a request). If the API is
   * rate-limited or unavailable and an answer was ever cached, that (possibly stale) answer is returned instead.
   */
  private async get<T>(path: string, schema: z.ZodType<T>, params: Record<string, string>): Promise<T> {
    const query = new URLSearchParams(params).toString();
    const url = `${this.baseUrl}${path}${query === '' ? '' : `?${query}`}`;
    const hit = this.cache.get(url);
    if (hit && this.now() - hit.atMs < this.ttlMs) return hit.value as T;

    let pending = this.inflight.get(url);
    if (!pending) {
      pending = this.fetchParsed(url, path, schema)
        .then((value) => {
          this.remember(url, value);
          return value;
        })
        .finally(() => this.inflight.delete(url));
      this.inflight.set(url, pending);
    }
    try {
      return (await pending) as T;
    } catch (err) {
      const stale = this.cache.get(url);
      if (
        stale &&
        err instanceof CoinGeckoError &&
        (err.kind === 'rate-limited' || err.kind === 'unavailable')
      ) {
        return stale.value as T;
      }
      throw err;
    }
  }

  private remember(url: string, value: unknown): void {
    this.cache.delete(url);
    this.cache.set(url, { value, atMs: this.now() });
    if (this.cache.size > MAX_CACHE_ENTRIES) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
  }

  private async fetchParsed<T>(url: string, path: string, schema: z.ZodType<T>): Promise<T> {
    const what = `CoinGecko GET ${path}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.apiKey !== undefined) headers[this.keyHeader] = this.apiKey;

    let status: number;
    let retryAfter: string | null;
    let text: string;
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      text = await res.text();
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      const reason = timedOut ? `timed out after ${this.timeoutMs} ms` : `failed: ${errorText(err)}`;
      throw new CoinGeckoError('unavailable', this.redact(`${what} ${reason}`));
    }

    let json: unknown;
    let isJson = true;
    try {
      json = JSON.parse(text);
    } catch {
      isJson = false;
    }

    if (status < 200 || status > 299)
      throw this.httpError(what, status, retryAfter, isJson ? json : undefined);
    if (!isJson) throw new CoinGeckoError('bad-response', `${what}: HTTP ${status} body is not JSON`);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
      throw new CoinGeckoError('bad-response', this.redact(`${what}: unexpected body (${where})`));
    }
    return parsed.data;
  }

  private httpError(what: string, status: number, retryAfter: string | null, body: unknown): CoinGeckoError {
    const parsed = errorBodySchema.safeParse(body);
    const code = parsed.success && 'status' in parsed.data ? parsed.data.status.error_code : null;
    const apiMessage = parsed.success
      ? 'status' in parsed.data
        ? parsed.data.status.error_message
        : parsed.data.error
      : undefined;
    const detail = [`HTTP ${status}`, code !== null ? `error_code ${code}` : null, apiMessage?.slice(0, 200)]
      .filter((s) => s !== null && s !== undefined && s !== '')
      .join(', ');
    const message = this.redact(`${what}: ${detail}`);

    if ((code !== null && BAD_KEY_CODES.has(code)) || status === 401) {
      const hint = this.apiKey === undefined ? 'no API key is set' : `the ${this.keyHeader} key was refused`;
      return new CoinGeckoError('bad-key', `${message} (${hint})`);
    }
    if (status === 429) return new CoinGeckoError('rate-limited', message, retryAfterMs(retryAfter));
    if (status === 408 || status >= 500) {
      return new CoinGeckoError('unavailable', message, status === 503 ? retryAfterMs(retryAfter) : null);
    }
    return new CoinGeckoError('bad-response', message);
  }

  /** Belt and braces: the key travels only in a header, but nothing that echoes it may reach a message. */
  private redact(s: string): string {
    return this.apiKey === undefined ? s : s.split(this.apiKey).join('[redacted]');
  }
}

function toMarketCoins(rows: Markets): MarketCoin[] {
  const out: MarketCoin[] = [];
  for (const r of rows) {
    // A coin without a price has nothing to show in an overview.
    if (r.current_price === null || r.current_price === undefined) continue;
    out.push({
      id: r.id,
      symbol: r.symbol.toUpperCase(),
      name: r.name,
      price: dec(r.current_price),
      change24hPct: decOrNull(r.price_change_percentage_24h ?? r.price_change_percentage_24h_in_currency),
      marketCap: decOrNull(r.market_cap),
      volume24h: decOrNull(r.total_volume),
      rank: r.market_cap_rank ?? null,
    });
  }
  return out;
}

function dec(n: number): string {
  return new Decimal(n).toFixed();
}

function decOrNull(n: number | null | undefined): string | null {
  return n === null || n === undefined ? null : dec(n);
}

function retryAfterMs(header: string | null): number | null {
  if (header === null || !/^\s*\d+\s*$/.test(header)) return null;
  return Number(header.trim()) * 1000;
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.message}${cause}`;
}
