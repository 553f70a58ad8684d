import type { DataSource } from 'typeorm';
import type { Config } from '../config.js';
import type { ApiKeyInfo } from '../exchange/bybit/api.js';
import { BybitError, explainAuthFailure } from '../exchange/bybit/errors.js';
import { expiryWarning, judgeApiKey } from '../exchange/bybit/key-check.js';
import type { Logger } from '../log/logger.js';

const DAY_MS = 86_400_000;

export interface ApiKeyCheckDeps {
  readonly ds: DataSource;
  readonly api: { apiKeyInfo(): Promise<ApiKeyInfo> };
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
    let info: ApiKeyInfo;
    try {
      info = await this.deps.api.apiKeyInfo();
    } catch (e) {
      // Demo trading lists no /v5/user endpoint among those it serves (Bybit's demo page): there the key cannot be
      // checked, which is said, not fatal (demo money is not real). Elsewhere an unchecked key does not trade.
      if (mode === 'demo') {
        const line = `the Bybit API key for ${host} could not be checked (${(e as Error).message}): demo trading may not serve GET /v5/user/query-api; make sure it can trade spot and nothing more`;
        log.warn(line);
        await this.store([line], null);
        return;
      }
      if (e instanceof BybitError && e.failure.kind === 'auth')
        throw Object.assign(new Error(explainAuthFailure(e.failure.reason)), { code: 'BYBIT_AUTH' });
      throw Object.assign(
        new Error(
          `could not check the Bybit API key for ${host} (GET /v5/user/query-api: ${(e as Error).message}); nothing trades with an unchecked key: try again`,
        ),
        { code: 'BYBIT_KEY' },
      );
    }
    const verdict = judgeApiKey(info, host);
    if (verdict.refusal) throw Object.assign(new Error(verdict.refusal), { code: 'BYBIT_KEY' });
    const expiry = expiryWarning(verdict.deadlineDay, host);
    for (const line of [...verdict.warnings, ...(expiry ? [expiry] : [])]) log.warn(line);
    await this.store(verdict.warnings, verdict.deadlineDay);
  }

  /** Again, for the daily report: never throws (a failed check is kept as a warning of its own). */
  async refresh(): Promise<void> {
    const { host } = this.deps;
    try {
      const verdict = judgeApiKey(await this.deps.api.apiKeyInfo(), host);
      await this.store(verdict.refusal ? [verdict.refusal] : verdict.warnings, verdict.deadlineDay);
    } catch (e) {
      const line = `the Bybit API key for ${host} could not be checked today (${(e as Error).message})`;
      await this.store([line], null).catch(() => undefined);
    }
  }

  private async store(warnings: readonly string[], deadlineDay: number | null): Promise<void> {
    await this.deps.ds.query(
      `INSERT INTO api_key_check (checked_at, mode, host, warnings, deadline_day) VALUES (now(), $1, $2, $3, $4)
       ON CONFLICT (singleton) DO UPDATE SET checked_at = EXCLUDED.checked_at, mode = EXCLUDED.mode,
         host = EXCLUDED.host, warnings = EXCLUDED.warnings, deadline_day = EXCLUDED.deadline_day`,
      [this.deps.mode, this.deps.host, JSON.stringify(warnings), deadlineDay],
    );
  }
}

/**
 * The latest key check's warnings as of `at`: the stored lines, and the expiry counted down from the day of the
 * check. Empty when no key was checked (paper, dry-run).
 */
export async function apiKeyWarnings(ds: DataSource, at: Date): Promise<string[]> {
  const [row] = (await ds.query(
    `SELECT checked_at, host, warnings, deadline_day FROM api_key_check WHERE singleton`,
  )) as { checked_at: Date; host: string | null; warnings: string[]; deadline_day: number | null }[];
  if (!row) return [];
  const elapsedDays = Math.max(0, Math.floor((at.getTime() - new Date(row.checked_at).getTime()) / DAY_MS));
  const expiry = expiryWarning(
    row.deadline_day === null ? null : row.deadline_day - elapsedDays,
    row.host ?? 'Bybit',
  );
  return [...row.warnings, ...(expiry ? [expiry] : [])];
}
