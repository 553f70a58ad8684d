import { z } from 'zod';

/**
 * The environment, parsed once. No other file reads process.env: everything else receives a Config.
 * Defaults are the safe embedded ones: paper trading on a simulated market against local Postgres and Redis.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const userIds = z
  .string()
  .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, { error: 'must be comma-separated numeric user ids' })
  .transform((v) => v.split(',').map((id) => id.trim()))
  .optional();

const decimalAmount = z.string().regex(/^\d+(\.\d+)?$/, { error: 'must be a decimal amount' });

const MarketData = z.union(
  [
    z.literal('simulated'),
    // No feed in this process: prices arrive from elsewhere (another process's feed, or a test driving them).
    z.literal('none'),
    z.string().regex(/^replay:.+/, { error: 'must be "simulated", "none" or "replay:FILE.csv[.gz]"' }),
  ],
  { error: 'must be "simulated", "none" or "replay:FILE.csv[.gz]"' },
);

export const EnvSchema = z.object({
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' })
    .default('postgres://postgres@127.0.0.1:5432/gridops'),
  REDIS_URL: z
    .url({ protocol: /^rediss?$/, error: 'must be a redis:// URL' })
    .default('redis://127.0.0.1:6379'),
  TRADING_MODE: z
    .enum(['paper', 'dry-run', 'testnet', 'demo', 'live'], {
      error: 'must be paper, dry-run, testnet, demo or live',
    })
    .default('paper'),
  MARKET_DATA: MarketData.default('simulated'),
  /** Real milliseconds between two simulated (or replayed) price updates per symbol. */
  MARKET_TICK_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** Symbols the simulated market trades: the catalogue's, or synthetic SIMnnnUSDT ones for load tests. */
  MARKET_SYMBOLS: z
    .string()
    .regex(/^[A-Za-z0-9]+(,[A-Za-z0-9]+)*$/, { error: 'must be a comma-separated list' })
    .default('BTCUSDT,ETHUSDT,SOLUSDT'),
  /** Seed of the simulated market: the same seed gives the same prices. */
  MARKET_SEED: z.coerce.number().int().default(1),
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HTTP_HOST: z.string().default('127.0.0.1'),
  // HTTP API. Without API_TOKEN the server serves this machine only (loopback, no proxy, no foreign Host or Origin).
  API_TOKEN: z
    .string()
    .min(24, { error: 'must be at least 24 characters (openssl rand -hex 24)' })
    .optional(),
  /** A token that may only read (GET); refused with 403 on anything that changes state. */
  API_READONLY_TOKEN: z
    .string()
    .min(24, { error: 'must be at least 24 characters (openssl rand -hex 24)' })
    .optional(),
  /**
   * Proxies whose X-Forwarded-For is believed (comma-separated addresses or CIDRs of at most 65,536 addresses: /16
   * for IPv4, /112 for IPv6), for the webhook's allowlist and the per-address limits.
   */
  HTTP_TRUST_PROXY: z
    .string()
    .superRefine((v, ctx) => {
      for (const problem of trustProxyProblems(v)) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  /** Longest a request may take (headers and body included) before the server gives up on it. */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(120_000).default(15_000),
  /** The TradingView webhook's shared secret (in the alert body: TradingView cannot sign); unset: the route is off. */
  TV_PASSPHRASE: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  /** Source addresses allowed to post alerts (comma-separated addresses or CIDRs); unset: any. */
  TV_ALLOWED_IPS: z
    .string()
    .regex(/^[0-9a-fA-F.:/]+(\s*,\s*[0-9a-fA-F.:/]+)*$/, { error: 'must be comma-separated IPs or CIDRs' })
    .optional(),
  TV_BODY_LIMIT: z.coerce.number().int().min(256).max(1_048_576).default(8192),
  /** Alerts per minute from one source address; more get 429. */
  TV_RATE_LIMIT: z.coerce.number().int().min(1).default(120),
  /** An alert without an id whose body repeats within this window is a duplicate. */
  TV_DEDUPE_WINDOW_MS: z.coerce.number().int().min(0).default(60_000),
  /**
   * The api process asks the worker to apply recorded alerts this long after recording the first of them, once for
   * all recorded meanwhile (and at once when it stops): a burst is a few runs a second, not one per write.
   */
  TV_APPLY_DELAY_MS: z.coerce.number().int().min(0).max(5000).default(25),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Force JSON or pretty logs; by default pretty on a terminal, JSON otherwise. */
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  ROLE: z.enum(['all', 'api', 'worker', 'bot']).default('all'),
  GRIDS_FILE: z.string().optional(),
  /** Demo grids on a first run without grids of your own; paper and dry-run only (never with real or test money). */
  DEMO_GRIDS: bool.default(true),
  /** Refuse a grid whose investment (in quote) is above this; unset: no cap. */
  MAX_GRID_INVESTMENT: decimalAmount.optional(),
  /** Refuse a grid that would take the investment of all active grids (in quote) above this; unset: no cap. */
  MAX_TOTAL_INVESTMENT: decimalAmount.optional(),
  /** Quote balance the paper exchange opens with, per quote currency. */
  PAPER_BALANCE: z
    .string()
    .regex(/^\d+(\.\d+)?$/, { error: 'must be a decimal amount' })
    .default('1000000'),
  DB_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(20),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** Prefix of every BullMQ key, so several installations (or test runs) can share one Redis. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('gridops'),
  // Risk (defaults: the seed design's figures). Percentages are plain numbers: 15 means 15 %.
  RISK_EVERY_MS: z.coerce.number().int().min(200).default(5000),
  RISK_DRAWDOWN_WARN_PCT: z
    .string()
    .regex(/^\d+(\.\d+)?$/, { error: 'must be a percentage such as 15 or 2.5' })
    .default('15'),
  RISK_DRAWDOWN_KILL_PCT: z
    .string()
    .regex(/^\d+(\.\d+)?$/, { error: 'must be a percentage such as 15 or 2.5' })
    .default('30'),
  RISK_ERROR_RATE_KILL_PCT: z
    .string()
    .regex(/^\d+(\.\d+)?$/, { error: 'must be a percentage such as 15 or 2.5' })
    .default('2'),
  RISK_ERROR_RATE_MIN_CALLS: z.coerce.number().int().min(1).default(20),
  RISK_ERROR_RATE_WINDOW_MS: z.coerce.number().int().min(1000).default(300_000),
  RISK_VOLATILITY_WINDOW: z.coerce.number().int().min(2).default(10),
  RISK_VOLATILITY_PCT: z
    .string()
    .regex(/^\d+(\.\d+)?$/, { error: 'must be a percentage such as 15 or 2.5' })
    .default('5'),
  RISK_VOLATILITY_CALM_MS: z.coerce.number().int().min(1000).default(600_000),
  // Pre-trade checks: an order further than this from the last price is held back (fat finger).
  RISK_MAX_PRICE_DISTANCE_PCT: z
    .string()
    .regex(/^\d+(\.\d+)?$/, { error: 'must be a percentage such as 15 or 2.5' })
    .default('10'),
  // No new altcoin buys while BTC has fallen more than this over the lookback.
  RISK_BTC_FILTER_PCT: z
    .string()
    .regex(/^\d+(\.\d+)?$/, { error: 'must be a percentage such as 15 or 2.5' })
    .default('3'),
  RISK_BTC_LOOKBACK_MS: z.coerce.number().int().min(60_000).default(3_600_000),
  // Optional limits (unset: none): open orders per symbol and in all, base held per symbol valued in quote.
  RISK_MAX_OPEN_ORDERS_PER_SYMBOL: z.coerce.number().int().min(1).optional(),
  RISK_MAX_OPEN_ORDERS: z.coerce.number().int().min(1).optional(),
  RISK_MAX_POSITION_QUOTE: z
    .string()
    .regex(/^\d+(\.\d+)?$/, { error: 'must be a decimal amount' })
    .optional(),
  // A price further than this from the last one is held until the next price confirms it.
  RISK_PRICE_JUMP_PCT: z
    .string()
    .regex(/^\d+(\.\d+)?$/, { error: 'must be a percentage such as 15 or 2.5' })
    .default('5'),
  // Streamed prices are compared with the exchange's REST tickers this often; further apart than this, they are held.
  RISK_PRICE_CROSSCHECK_MS: z.coerce.number().int().min(100).default(15_000),
  RISK_PRICE_SOURCE_GAP_PCT: z
    .string()
    .regex(/^\d+(\.\d+)?$/, { error: 'must be a percentage such as 15 or 2.5' })
    .default('2'),
  /** How long the kill switch keeps retrying cancellations while the exchange fails, before it calls it unreachable. */
  KILL_CANCEL_DEADLINE_MS: z.coerce.number().int().min(500).default(30_000),
  /**
   * Whether the kill switch also sells, at market, the base every grid holds once its orders are gone. Off by default:
   * a market sell in a crash realizes the loss at the worst moment, and that is the user's call to make.
   */
  KILL_SELL_BASE: bool.default(false),
  /** How long the market-feed lease lives without renewal: the longest a dead feed holder blocks a successor. */
  MARKET_LEASE_MS: z.coerce.number().int().min(500).default(10_000),
  /**
   * BullMQ's job lock: a job whose worker died is noticed as stalled and retried within about this long.
   * Locks are renewed at half this period, so a shorter one only costs a little Redis traffic.
   */
  JOB_LOCK_MS: z.coerce.number().int().min(500).default(10_000),
  RECONCILE_EVERY_MS: z.coerce.number().int().min(200).default(5000),
  /** An order still being placed after this long is looked up on the exchange (its placer is presumed dead). */
  PLACEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  DAILY_REPORT_CRON: z.string().default('0 8 * * *'),
  REPORT_TIMEZONE: z.string().default('UTC'),
  LIVE_TRADING_CONFIRM: z.literal('yes', { error: 'must be "yes" (or unset)' }).optional(),
  // Bybit. The URLs default by TRADING_MODE (testnet, demo, mainnet); set them to point at any Bybit-compatible server.
  BYBIT_API_KEY: z.string().optional(),
  BYBIT_API_SECRET: z.string().optional(),
  BYBIT_REST_URL: z.url({ error: 'must be a URL' }).optional(),
  BYBIT_WS_PUBLIC_URL: z.url({ error: 'must be a URL' }).optional(),
  BYBIT_WS_PRIVATE_URL: z.url({ error: 'must be a URL' }).optional(),
  // The market overview (/market in the chats): CoinGecko, optionally with a demo or pro API key.
  COINGECKO_URL: z.url({ error: 'must be a URL' }).optional(),
  COINGECKO_API_KEY: z.string().optional(),
  COINGECKO_KEY_TYPE: z.enum(['demo', 'pro'], { error: 'must be demo or pro' }).default('demo'),
  BYBIT_RECV_WINDOW: z.coerce.number().int().min(1000).max(60_000).default(5000),
  /** A Bybit request unanswered after this long is ambiguous: its effect is looked up before any retry. */
  BYBIT_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** How often executions and tickers are polled over REST when the WebSocket streams are not in use. */
  BYBIT_POLL_MS: z.coerce.number().int().min(50).default(2000),
  /** How long a Bybit stream may be down before its data is polled over REST instead. */
  BYBIT_WS_FALLBACK_MS: z.coerce.number().int().min(100).default(10_000),
  // Chat control. A transport runs when its token is set; user lists are comma-separated numeric ids.
  TELEGRAM_BOT_TOKEN: z
    .string()
    .regex(/^\d+:[\w-]+$/, { error: 'must look like 123456:ABC-DEF...' })
    .optional(),
  /** Any Bot API server (a local one included); a path must end with '/', as telegraf keeps it only then. */
  TELEGRAM_API_ROOT: z.url({ error: 'must be a URL' }).optional(),
  TELEGRAM_ALLOWED_USERS: userIds,
  TELEGRAM_READONLY_USERS: userIds,
  /** Where alerts go: a private chat, a group or a forum (with TELEGRAM_ALERT_TOPIC_ID); default every operator. */
  TELEGRAM_ALERT_CHAT_ID: z
    .string()
    .regex(/^-?\d+$/, { error: 'must be a numeric chat id' })
    .optional(),
  TELEGRAM_ALERT_TOPIC_ID: z.coerce.number().int().positive().optional(),
  /** Webhook mode instead of long polling: Telegram posts updates to this https URL, with the secret header. */
  TELEGRAM_WEBHOOK_URL: z.url({ error: 'must be a URL' }).optional(),
  TELEGRAM_WEBHOOK_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{16,256}$/, { error: 'must be 16-256 of A-Z a-z 0-9 _ -' })
    .optional(),
  TELEGRAM_WEBHOOK_PORT: z.coerce.number().int().min(1).max(65_535).default(8443),
  /** Where the webhook server listens: loopback, behind the reverse proxy that terminates TLS (0.0.0.0 in a container). */
  TELEGRAM_WEBHOOK_HOST: z.string().min(1).default('127.0.0.1'),
  /** Telegram allows about one message a second per chat: sends to one chat are spaced by this. */
  TELEGRAM_CHAT_GAP_MS: z.coerce.number().int().min(0).default(1000),
  DISCORD_BOT_TOKEN: z.string().optional(),
  DISCORD_APPLICATION_ID: z.string().regex(/^\d+$/, { error: 'must be a numeric id' }).optional(),
  /** Slash commands are registered to this guild (at once); globally when unset (Discord takes up to an hour). */
  DISCORD_GUILD_ID: z.string().regex(/^\d+$/, { error: 'must be a numeric id' }).optional(),
  DISCORD_ALERT_CHANNEL_ID: z.string().regex(/^\d+$/, { error: 'must be a numeric id' }).optional(),
  /** Discord's REST base (default https://discord.com/api); the gateway URL then comes from its /gateway/bot. */
  DISCORD_API_ROOT: z.url({ error: 'must be a URL' }).optional(),
  DISCORD_ALLOWED_USERS: userIds,
  /** A slash command still working after this long is acknowledged ("thinking…") and answered by an edit. */
  DISCORD_DEFER_AFTER_MS: z.coerce.number().int().min(0).max(2500).default(1500),
  DISCORD_READONLY_USERS: userIds,
  /** How long a confirmation button (/kill, /stop, /reset, /create) stays valid; at most 10 minutes. */
  CHAT_CONFIRM_TTL_MS: z.coerce.number().int().min(1000).max(600_000).default(60_000),
  /** Discord replies that show balances, trades or orders are seen by the asker only unless this is true. */
  DISCORD_PUBLIC_REPLIES: bool.default(false),
  /** Fills arriving within this window reach a chat as one digest message. */
  NOTIFY_DIGEST_MS: z.coerce.number().int().min(0).default(3000),
  /** Alerts also go out as signed JSON POSTs (HMAC-SHA256 of the body in X-GridOps-Signature) to this URL. */
  NOTIFY_WEBHOOK_URL: z.url({ error: 'must be a URL' }).optional(),
  NOTIFY_WEBHOOK_SECRET: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  /** A weekly report as well as the daily one (node-cron syntax), e.g. "0 9 * * 1". */
  WEEKLY_REPORT_CRON: z.string().optional(),
});

export type Config = Readonly<z.infer<typeof EnvSchema>>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

/** Parses the environment (process.env by default), with overrides from the command line (such as --role). */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Record<string, string | undefined> = {},
): Config {
  // Empty variables count as unset, as in most .env tooling.
  const present = Object.fromEntries(
    Object.entries({ ...env, ...overrides }).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`));
  }
  const config = parsed.data;
  const problems: string[] = [];
  const mode = config.TRADING_MODE;
  if (mode === 'live' && config.LIVE_TRADING_CONFIRM !== 'yes') {
    problems.push(
      'TRADING_MODE live trades real money on Bybit mainnet: set LIVE_TRADING_CONFIRM=yes to confirm',
    );
  }
  if (
    (mode === 'testnet' || mode === 'demo' || mode === 'live') &&
    (!config.BYBIT_API_KEY || !config.BYBIT_API_SECRET)
  ) {
    problems.push(`TRADING_MODE ${mode} needs BYBIT_API_KEY and BYBIT_API_SECRET (keys of that environment)`);
  }
  if (config.NOTIFY_WEBHOOK_URL && !config.NOTIFY_WEBHOOK_SECRET)
    problems.push('NOTIFY_WEBHOOK_URL needs NOTIFY_WEBHOOK_SECRET (receivers check the signature with it)');
  if (config.DISCORD_BOT_TOKEN && !config.DISCORD_APPLICATION_ID)
    problems.push('DISCORD_BOT_TOKEN needs DISCORD_APPLICATION_ID (slash commands are registered under it)');
  if (config.TELEGRAM_WEBHOOK_URL && !config.TELEGRAM_WEBHOOK_SECRET)
    problems.push('TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET (updates without it are refused)');
  if (config.API_READONLY_TOKEN && !config.API_TOKEN)
    problems.push(
      'API_READONLY_TOKEN needs API_TOKEN (without API_TOKEN the server is open to this machine, so a read-only token would protect nothing)',
    );
  if (config.API_READONLY_TOKEN && config.API_READONLY_TOKEN === config.API_TOKEN)
    problems.push('API_READONLY_TOKEN must differ from API_TOKEN');
  const money = moneyAtStake(config);
  if (money.real && mode !== 'live' && config.LIVE_TRADING_CONFIRM !== 'yes') {
    problems.push(
      `TRADING_MODE ${mode} points at ${money.host}, which is not a Bybit testnet or demo host: that is real money; ` +
        'set LIVE_TRADING_CONFIRM=yes to confirm, or use the default URLs',
    );
  }
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze(config);
}

const BYBIT_URLS = {
  // dry-run reads mainnet's public prices only.
  'dry-run': {
    rest: 'https://api.bybit.com',
    wsPublic: 'wss://stream.bybit.com/v5/public/spot',
    wsPrivate: '',
  },
  testnet: {
    rest: 'https://api-testnet.bybit.com',
    wsPublic: 'wss://stream-testnet.bybit.com/v5/public/spot',
    wsPrivate: 'wss://stream-testnet.bybit.com/v5/private',
  },
  // Demo trading has no public stream of its own: prices come from mainnet's.
  demo: {
    rest: 'https://api-demo.bybit.com',
    wsPublic: 'wss://stream.bybit.com/v5/public/spot',
    wsPrivate: 'wss://stream-demo.bybit.com/v5/private',
  },
  live: {
    rest: 'https://api.bybit.com',
    wsPublic: 'wss://stream.bybit.com/v5/public/spot',
    wsPrivate: 'wss://stream.bybit.com/v5/private',
  },
} as const;

/** Where Bybit is for this mode, overridden by BYBIT_*_URL. Null in paper mode (no Bybit at all). */
export function bybitEndpoints(config: Config): { rest: string; wsPublic: string; wsPrivate: string } | null {
  if (config.TRADING_MODE === 'paper') return null;
  const d = BYBIT_URLS[config.TRADING_MODE];
  return {
    rest: config.BYBIT_REST_URL ?? d.rest,
    wsPublic: config.BYBIT_WS_PUBLIC_URL ?? d.wsPublic,
    wsPrivate: config.BYBIT_WS_PRIVATE_URL ?? d.wsPrivate,
  };
}

/** Bybit's own hosts for test money: testnet and demo trading. */
const TEST_MONEY_HOSTS = new Set([
  'api-testnet.bybit.com',
  'stream-testnet.bybit.com',
  'api-demo.bybit.com',
  'stream-demo.bybit.com',
]);

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export interface MoneyAtStake {
  /** True when orders may move real money: live mode, or a URL that is neither Bybit's test hosts nor loopback. */
  readonly real: boolean;
  /** What the orders trade with, for the banner. */
  readonly label: 'paper' | 'test' | 'real';
  /** The host orders and executions go through (the first one that decides), or null without an exchange. */
  readonly host: string | null;
}

/**
 * Which money the orders of this configuration move. Real money is assumed unless every URL that carries orders or
 * executions (REST and the private stream) is a Bybit testnet or demo host, or loopback (the tests' fakes): a URL
 * override must not turn "demo" into mainnet behind the user's back. The public stream carries prices only.
 */
export function moneyAtStake(config: Config): MoneyAtStake {
  const mode = config.TRADING_MODE;
  if (mode === 'paper') return { real: false, label: 'paper', host: null };
  const endpoints = bybitEndpoints(config)!;
  const hostOf = (url: string) => {
    try {
      return new URL(url).hostname;
    } catch {
      return url;
    }
  };
  const rest = hostOf(endpoints.rest);
  // dry-run sends no order anywhere: its fills are paper, whatever the price source.
  if (mode === 'dry-run') return { real: false, label: 'paper', host: rest };
  const carriers = [endpoints.rest, endpoints.wsPrivate].filter(Boolean).map(hostOf);
  const foreign = carriers.find((h) => !TEST_MONEY_HOSTS.has(h) && !isLoopbackHost(h));
  if (mode === 'live') return { real: true, label: 'real', host: rest };
  if (foreign) return { real: true, label: 'real', host: foreign };
  return { real: false, label: 'test', host: rest };
}

/**
 * Settings that expose the process beyond this machine, which then needs API_TOKEN: checked by the app at start (not
 * by the CLI, which must work in an emergency whatever the settings).
 */
export function exposureProblems(config: Config): string[] {
  if (config.API_TOKEN) return [];
  const reasons: string[] = [];
  if (config.TV_PASSPHRASE) reasons.push('TV_PASSPHRASE (TradingView reaches it from outside)');
  if (config.HTTP_TRUST_PROXY) reasons.push('HTTP_TRUST_PROXY (a proxy serves it to others)');
  if (config.TELEGRAM_WEBHOOK_URL) reasons.push('TELEGRAM_WEBHOOK_URL (Telegram reaches it from outside)');
  if (config.TRADING_MODE !== 'paper' && config.TRADING_MODE !== 'dry-run')
    reasons.push(`TRADING_MODE ${config.TRADING_MODE} (an exchange account is at stake)`);
  return reasons.length
    ? [`API_TOKEN is required with ${reasons.join(', ')}: set API_TOKEN (openssl rand -hex 24)`]
    : [];
}

/** Trusted proxies: addresses or CIDRs, none wider than 65,536 addresses (a whole network is no proxy). */
export function trustProxyProblems(value: string): string[] {
  const problems: string[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    const m = /^([0-9a-fA-F.:]+)(?:\/(\d{1,3}))?$/.exec(entry);
    const ip = m?.[1] ?? '';
    const v4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(ip) && ip.split('.').every((o) => Number(o) <= 255);
    const v6 = !v4 && ip.includes(':') && /^[0-9a-fA-F:.]+$/.test(ip);
    if (!m || (!v4 && !v6)) {
      problems.push(`"${entry.slice(0, 40)}" is not an IP address or CIDR`);
      continue;
    }
    if (m[2] === undefined) continue;
    const prefix = Number(m[2]);
    const bits = v4 ? 32 : 128;
    if (prefix > bits) problems.push(`${entry} has a prefix longer than /${bits}`);
    else if (bits - prefix > 16)
      problems.push(
        `${entry} is wider than /${bits - 16}: trust the proxy's own address, not a whole network`,
      );
  }
  return problems;
}
