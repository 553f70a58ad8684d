import type { DataSource } from 'typeorm';
import { ApiKeyCheck } from '../app/api-key-check.js';
import { DEFAULT_FEES } from '../app/grid-service.js';
import { bybitEndpoints, type Config, moneyAtStake } from '../config.js';
import { PgApiKeyChecks } from '../db/api-key-store.js';
import { BybitApi } from '../exchange/bybit/api.js';
import { BybitExchange } from '../exchange/bybit/bybit-exchange.js';
import { BybitKeyInspector } from '../exchange/bybit/key-check.js';
import { BybitRestClient } from '../exchange/bybit/rest-client.js';
import type { CallStatsRecorder } from '../exchange/call-stats.js';
import { type Exchange, ExchangeError } from '../exchange/exchange.js';
import { PaperExchange } from '../exchange/paper/paper-exchange.js';
import type { Logger } from '../log/logger.js';
import { simulatedInstrument } from '../market/instruments.js';

/** The exchange this mode trades on, and the Bybit pieces the feeds need. Nothing else knows which one runs. */
export interface ExchangeSetup {
  readonly exchange: Exchange;
  /** The paper exchange, in paper and dry-run modes (its book matches on the prices the feed brings). */
  readonly paper: PaperExchange | null;
  /** Bybit, in testnet, demo and live modes; its public prices also feed dry-run. */
  readonly bybit: {
    readonly api: BybitApi;
    readonly exchange: BybitExchange | null;
    readonly endpoints: { readonly rest: string; readonly wsPublic: string; readonly wsPrivate: string };
  } | null;
  /** The exchange API key's check (testnet, demo and live), repeated for each daily report. */
  readonly apiKeyCheck: ApiKeyCheck | null;
}

/** A Bybit REST API for this configuration, its calls counted for the error rate. */
function bybitApi(config: Config, rest: string, callStats: CallStatsRecorder): BybitApi {
  return new BybitApi(
    new BybitRestClient({
      onOutcome: (o) =>
        callStats.record({
          retries: o.retried ?? 0,
          ok: o.ok,
          reason: o.failure
            ? `${o.failure.kind}:${'reason' in o.failure ? o.failure.reason : 'cause' in o.failure ? o.failure.cause : ''}`
            : null,
        }),
      baseUrl: rest,
      apiKey: config.BYBIT_API_KEY,
      apiSecret: config.BYBIT_API_SECRET,
      recvWindowMs: config.BYBIT_RECV_WINDOW,
      timeoutMs: config.BYBIT_TIMEOUT_MS,
    }),
  );
}

/**
 * By TRADING_MODE: paper (simulated instruments, or Bybit's in dry-run), or Bybit itself, whose credentials, clock
 * and key permissions are checked now, so a wrong key stops the start with one clear line before any order.
 */
export async function openExchange(
  config: Config,
  deps: { ds: DataSource; symbols: readonly string[]; callStats: CallStatsRecorder; log: Logger },
): Promise<ExchangeSetup> {
  const { ds, symbols, callStats, log } = deps;
  const endpoints = bybitEndpoints(config);
  if (!endpoints) {
    const instruments = symbols.map((s) => {
      const i = simulatedInstrument(s);
      if (!i) throw new Error(`MARKET_SYMBOLS: no instrument for ${s}`);
      return i;
    });
    const paper = await paperExchange(ds, instruments, config);
    return { exchange: paper, paper, bybit: null, apiKeyCheck: null };
  }
  const api = bybitApi(config, endpoints.rest, callStats);
  if (config.TRADING_MODE === 'dry-run') {
    // Live prices, paper fills: the paper exchange trades with Bybit's real filters.
    const paper = await paperExchange(
      ds,
      (await api.instruments()).filter((i) => symbols.includes(i.symbol)),
      config,
    );
    return { exchange: paper, paper, bybit: { api, exchange: null, endpoints }, apiKeyCheck: null };
  }
  const live = new BybitExchange(api, { batch: config.TRADING_MODE !== 'demo' });
  await live.open(symbols);
  try {
    await live.balances();
  } catch (e) {
    if (e instanceof ExchangeError && e.failure.kind === 'auth') {
      throw Object.assign(new Error(e.advice ?? e.message), { code: 'BYBIT_AUTH' });
    }
    throw e;
  }
  // What the key may do, before any order: one that cannot trade spot, or can withdraw, stops the start.
  const keyHost = moneyAtStake(config).host ?? endpoints.rest;
  const apiKeyCheck = new ApiKeyCheck({
    inspector: new BybitKeyInspector(api, keyHost),
    checks: new PgApiKeyChecks(ds),
    mode: config.TRADING_MODE,
    host: keyHost,
    log,
  });
  await apiKeyCheck.atStart();
  return { exchange: live, paper: null, bybit: { api, exchange: live, endpoints }, apiKeyCheck };
}

async function paperExchange(
  ds: DataSource,
  instruments: ConstructorParameters<typeof PaperExchange>[1]['instruments'],
  config: Config,
): Promise<PaperExchange> {
  const paper = new PaperExchange(ds, {
    instruments,
    makerFee: DEFAULT_FEES.maker,
    takerFee: DEFAULT_FEES.taker,
    openingQuoteBalance: config.PAPER_BALANCE,
  });
  await paper.open();
  return paper;
}
