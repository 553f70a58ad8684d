import type { Config } from '../config.js';
import { ExchangeError } from '../exchange/exchange.js';
import type { Logger } from '../log/logger.js';
import type { ApiKeyChecks, ApiKeyInspector } from './ports/api-key.js';

const DAY_MS = 86_400_000;

/** How soon an expiring key is said to expire (days), at start and in the daily report. */
export const KEY_EXPIRY_WARN_DAYS = 14;

export interface ApiKeyCheckDeps {
  /** The key's info, judged by the exchange's adapter. */
  readonly inspector: ApiKeyInspector;
  readonly checks: ApiKeyChecks;
  readonly mode: Config['TRADING_MODE'];
  /** The host the key belongs to, for the lines. */
  readonly host: string;
  readonly log: Logger;
}

/**
 * The exchange API key, checked before anything trades and again for each daily report: a key that cannot trade
 * spot, or that can withdraw, stops the start with one line; what is merely unwise is warned about, and kept in
 * Postgres (the latest check) for the daily report.
 */
export class ApiKeyCheck {
  constructor(private readonly deps: ApiKeyCheckDeps) {}

  /** At start. Throws an error whose message is the one line to print (code BYBIT_KEY) when the key is refused. */
  async atStart(): Promise<void> {
    const { log, mode, host } = this.deps;
    let verdict: Awaited<ReturnType<ApiKeyInspector['inspect']>>;
    try {
      verdict = await this.deps.inspector.inspect();
    } catch (e) {
      // Demo trading lists no /v5/user endpoint among those it serves (Bybit's demo page): there the key cannot be
      // checked, which is said, not fatal (demo money is not real). Elsewhere an unchecked key does not trade.
      if (mode === 'demo') {
        const line = `the Bybit API key for ${host} could not be checked (${(e as Error).message}): demo trading may not serve GET /v5/user/query-api; make sure it can trade spot and nothing more`;
        log.warn(line);
        await this.store([line], null);
        return;
      }
      if (e instanceof ExchangeError && e.failure.kind === 'auth')
        throw Object.assign(new Error(e.advice ?? e.message), { code: 'BYBIT_AUTH' });
      throw Object.assign(
        new Error(
          `could not check the Bybit API key for ${host} (GET /v5/user/query-api: ${(e as Error).message}); nothing trades with an unchecked key: try again`,
        ),
        { code: 'BYBIT_KEY' },
      );
    }
    if (verdict.refusal) throw Object.assign(new Error(verdict.refusal), { code: 'BYBIT_KEY' });
    const expiry = expiryWarning(verdict.deadlineDay, host);
    for (const line of [...verdict.warnings, ...(expiry ? [expiry] : [])]) log.warn(line);
    await this.store(verdict.warnings, verdict.deadlineDay);
  }

  /** Again, for the daily report: never throws (a failed check is kept as a warning of its own). */
  async refresh(): Promise<void> {
    const { host } = this.deps;
    try {
      const verdict = await this.deps.inspector.inspect();
      await this.store(verdict.refusal ? [verdict.refusal] : verdict.warnings, verdict.deadlineDay);
    } catch (e) {
      const line = `the Bybit API key for ${host} could not be checked today (${(e as Error).message})`;
      await this.store([line], null).catch(() => undefined);
    }
  }

  private store(warnings: readonly string[], deadlineDay: number | null): Promise<void> {
    return this.deps.checks.save({ mode: this.deps.mode, host: this.deps.host, warnings, deadlineDay });
  }
}

/**
 * The latest key check's warnings as of `at`: the stored lines, and the expiry counted down from the day of the
 * check. Empty when no key was checked (paper, dry-run).
 */
export async function apiKeyWarnings(checks: ApiKeyChecks, at: Date): Promise<string[]> {
  const latest = await checks.latest();
  if (!latest) return [];
  const elapsedDays = Math.max(0, Math.floor((at.getTime() - latest.checkedAt.getTime()) / DAY_MS));
  const expiry = expiryWarning(
    latest.deadlineDay === null ? null : latest.deadlineDay - elapsedDays,
    latest.host ?? 'Bybit',
  );
  return [...latest.warnings, ...(expiry ? [expiry] : [])];
}

/**
 * The expiry line, once fewer than KEY_EXPIRY_WARN_DAYS days are left; null before. It lives here, not with the
 * verdict, because the daily report counts the days down from the stored check without asking the exchange again.
 */
export function expiryWarning(daysLeft: number | null, where: string): string | null {
  if (daysLeft === null || daysLeft > KEY_EXPIRY_WARN_DAYS) return null;
  const when = daysLeft <= 0 ? 'today' : daysLeft === 1 ? 'in 1 day' : `in ${daysLeft} days`;
  return `the Bybit API key for ${where} expires ${when}: every call fails after that; create a new one bound to this server's IP (such keys do not expire)`;
}
