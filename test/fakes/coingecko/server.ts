import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

/*
 * A local fake of the three CoinGecko endpoints the market overview reads (protocols.md 6), for tests: real HTTP on
 * 127.0.0.1, JSON numbers as CoinGecko sends them, five fixed coins. Choices where CoinGecko is unverified:
 * - a missing or wrong demo key is HTTP 401 with error_code 10002; a pro key header is 401 with 10010;
 * - missing vs_currencies / vs_currency is HTTP 400 `{"error":"Missing parameter ..."}`; only usd is priced;
 * - failNext answers the next request (any route, before the key check) with the given status, body and headers;
 *   queued faults are served in order. Every request counts in calls(), faults included.
 */

export interface FakeCoinGecko {
  /** Root including /api/v3, e.g. http://127.0.0.1:12345/api/v3. */
  readonly url: string;
  readonly calls: () => number;
  readonly failNext: (status: number, body?: unknown, headers?: Record<string, string>) => void;
  close(): Promise<void>;
}

interface Coin {
  readonly id: string;
  readonly symbol: string;
  readonly name: string;
  readonly price: number;
  readonly change24hPct: number;
  readonly marketCap: number;
  readonly rank: number;
  readonly volume24h: number;
  readonly circulating: number;
  readonly maxSupply: number | null;
  readonly priceBtc: number;
  readonly score: number;
}

const LAST_UPDATED_AT = 1779092258;
const LAST_UPDATED = new Date(LAST_UPDATED_AT * 1000).toISOString();

/** Ordered by market cap, largest first; 24 h changes all different, some up, some down. */
const COINS: readonly Coin[] = [
  {
    id: 'bitcoin',
    symbol: 'btc',
    name: 'Bitcoin',
    price: 76975.12,
    change24hPct: -1.409,
    marketCap: 1532874561234,
    rank: 1,
    volume24h: 38123456789.5,
    circulating: 19912345,
    maxSupply: 21000000,
    priceBtc: 1,
    score: 3,
  },
  {
    id: 'ethereum',
    symbol: 'eth',
    name: 'Ethereum',
    price: 2987.4,
    change24hPct: 2.3145,
    marketCap: 360512345678,
    rank: 2,
    volume24h: 17234567890.25,
    circulating: 120678901.2,
    maxSupply: null,
    priceBtc: 0.03881,
    score: 4,
  },
  {
    id: 'ripple',
    symbol: 'xrp',
    name: 'XRP',
    price: 2.1834,
    change24hPct: -4.87,
    marketCap: 128345678901,
    rank: 4,
    volume24h: 3456789012,
    circulating: 58765432109,
    maxSupply: 100000000000,
    priceBtc: 0.00002836,
    score: 2,
  },
  {
    id: 'solana',
    symbol: 'sol',
    name: 'Solana',
    price: 172.35,
    change24hPct: 6.0211,
    marketCap: 89012345678,
    rank: 6,
    volume24h: 4567890123.75,
    circulating: 516456789.1,
    maxSupply: null,
    priceBtc: 0.002239,
    score: 0,
  },
  {
    id: 'dogecoin',
    symbol: 'doge',
    name: 'Dogecoin',
    price: 0.16234,
    change24hPct: 0.75,
    marketCap: 24123456789,
    rank: 9,
    volume24h: 1234567890,
    circulating: 148600000000,
    maxSupply: null,
    priceBtc: 0.000002109,
    score: 1,
  },
];

type Query = Record<string, string | undefined>;

interface Fault {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;
}

function marketRow(c: Coin, withChangeInCurrency: boolean): Record<string, unknown> {
  const change = (c.price * c.change24hPct) / (100 + c.change24hPct);
  const row: Record<string, unknown> = {
    id: c.id,
    symbol: c.symbol,
    name: c.name,
    image: `https://coin-images.coingecko.com/coins/images/1/large/${c.id}.png`,
    current_price: c.price,
    market_cap: c.marketCap,
    market_cap_rank: c.rank,
    fully_diluted_valuation: c.maxSupply === null ? c.marketCap : c.price * c.maxSupply,
    total_volume: c.volume24h,
    high_24h: c.price * 1.021,
    low_24h: c.price * 0.968,
    price_change_24h: change,
    price_change_percentage_24h: c.change24hPct,
    market_cap_change_24h: (c.marketCap * c.change24hPct) / 100,
    market_cap_change_percentage_24h: c.change24hPct,
    circulating_supply: c.circulating,
    total_supply: c.maxSupply ?? c.circulating,
    max_supply: c.maxSupply,
    ath: c.price * 1.4,
    ath_change_percentage: -28.57,
    ath_date: '2025-10-06T18:57:42.558Z',
    atl: c.price / 1000,
    atl_change_percentage: 99900,
    atl_date: '2013-07-06T00:00:00.000Z',
    roi: null,
    last_updated: LAST_UPDATED,
  };
  if (withChangeInCurrency) row.price_change_percentage_24h_in_currency = c.change24hPct;
  return row;
}

function simplePrice(q: Query): { status: number; body: unknown } {
  if (!q.vs_currencies) return { status: 400, body: { error: 'Missing parameter vs_currencies' } };
  const ids = (q.ids ?? '').split(',').map((s) => s.trim().toLowerCase());
  const currencies = q.vs_currencies.split(',').map((s) => s.trim().toLowerCase());
  const body: Record<string, Record<string, number>> = {};
  for (const coin of COINS) {
    if (!ids.includes(coin.id)) continue;
    const entry: Record<string, number> = {};
    if (currencies.includes('usd')) {
      entry.usd = coin.price;
      if (q.include_market_cap === 'true') entry.usd_market_cap = coin.marketCap;
      if (q.include_24hr_vol === 'true') entry.usd_24h_vol = coin.volume24h;
      if (q.include_24hr_change === 'true') entry.usd_24h_change = coin.change24hPct;
    }
    if (q.include_last_updated_at === 'true') entry.last_updated_at = LAST_UPDATED_AT;
    body[coin.id] = entry;
  }
  return { status: 200, body };
}

const ORDERS: Record<string, (a: Coin, b: Coin) => number> = {
  market_cap_desc: (a, b) => b.marketCap - a.marketCap,
  market_cap_asc: (a, b) => a.marketCap - b.marketCap,
  volume_desc: (a, b) => b.volume24h - a.volume24h,
  volume_asc: (a, b) => a.volume24h - b.volume24h,
  id_asc: (a, b) => a.id.localeCompare(b.id),
  id_desc: (a, b) => b.id.localeCompare(a.id),
};

function coinsMarkets(q: Query): { status: number; body: unknown } {
  if (!q.vs_currency) return { status: 400, body: { error: 'Missing parameter vs_currency' } };
  if (q.vs_currency.toLowerCase() !== 'usd') return { status: 400, body: { error: 'invalid vs_currency' } };
  const order = ORDERS[q.order ?? 'market_cap_desc'];
  if (!order) return { status: 400, body: { error: 'invalid order' } };
  const perPage = q.per_page === undefined ? 100 : Number(q.per_page);
  const page = q.page === undefined ? 1 : Number(q.page);
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > 250 || !Number.isInteger(page) || page < 1) {
    return { status: 400, body: { error: 'invalid per_page or page' } };
  }
  const ids = q.ids ? q.ids.split(',').map((s) => s.trim().toLowerCase()) : null;
  const withChange = (q.price_change_percentage ?? '').split(',').includes('24h');
  const rows = COINS.filter((c) => ids === null || ids.includes(c.id))
    .slice()
    .sort(order)
    .slice((page - 1) * perPage, page * perPage)
    .map((c) => marketRow(c, withChange));
  return { status: 200, body: rows };
}

function searchTrending(): { status: number; body: unknown } {
  const btc = COINS[0]!.price;
  const coins = COINS.slice()
    .sort((a, b) => a.score - b.score)
    .map((c, i) => ({
      item: {
        id: c.id,
        coin_id: i + 1,
        name: c.name,
        symbol: c.symbol.toUpperCase(),
        market_cap_rank: c.rank,
        thumb: `https://coin-images.coingecko.com/coins/images/1/thumb/${c.id}.png`,
        small: `https://coin-images.coingecko.com/coins/images/1/small/${c.id}.png`,
        large: `https://coin-images.coingecko.com/coins/images/1/large/${c.id}.png`,
        slug: c.id,
        price_btc: c.priceBtc,
        score: c.score,
        data: {
          price: c.priceBtc * btc,
          price_btc: String(c.priceBtc),
          price_change_percentage_24h: { usd: c.change24hPct, btc: c.change24hPct + 1.409 },
          market_cap: `$${c.marketCap.toLocaleString('en-US')}`,
          market_cap_btc: String(c.marketCap / btc),
          total_volume: `$${c.volume24h.toLocaleString('en-US')}`,
          total_volume_btc: String(c.volume24h / btc),
          sparkline: `https://www.coingecko.com/coins/${i + 1}/sparkline.svg`,
          content: null,
        },
      },
    }));
  return { status: 200, body: { coins, nfts: [], categories: [] } };
}

export async function startFakeCoinGecko(options: { demoKey?: string } = {}): Promise<FakeCoinGecko> {
  const app = Fastify({ logger: false });
  const faults: Fault[] = [];
  let calls = 0;

  const route =
    (handle: (q: Query) => { status: number; body: unknown }) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      calls += 1;
      const fault = faults.shift();
      if (fault) return reply.code(fault.status).headers(fault.headers).send(fault.body);
      const q = req.query as Query;
      if (req.headers['x-cg-pro-api-key'] !== undefined || q.x_cg_pro_api_key !== undefined) {
        return reply.code(401).send({
          status: {
            error_code: 10010,
            error_message:
              'If you are using Pro API key, please change your root URL from api.coingecko.com to pro-api.coingecko.com',
          },
        });
      }
      if (options.demoKey !== undefined) {
        const key = req.headers['x-cg-demo-api-key'] ?? q.x_cg_demo_api_key;
        if (key !== options.demoKey) {
          return reply.code(401).send({
            status: {
              error_code: 10002,
              error_message:
                key === undefined
                  ? 'API Key Missing'
                  : 'Invalid API Key. Please check your key at https://www.coingecko.com/en/developers/dashboard',
            },
          });
        }
      }
      const { status, body } = handle(q);
      return reply.code(status).send(body);
    };

  app.get('/api/v3/simple/price', route(simplePrice));
  app.get('/api/v3/coins/markets', route(coinsMarkets));
  app.get('/api/v3/search/trending', route(searchTrending));

  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: `${address}/api/v3`,
    calls: () => calls,
    failNext: (status, body, headers = {}) => {
      faults.push({
        status,
        body: body ?? { status: { error_code: status, error_message: `fake failure (HTTP ${status})` } },
        headers,
      });
    },
    close: async () => {
      await app.close();
    },
  };
}
