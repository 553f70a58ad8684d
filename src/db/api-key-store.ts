import type { DataSource } from 'typeorm';
import type { ApiKeyChecks, KeyCheckRecord } from '../app/ports/api-key.js';

/** The latest API key check, in the one-row table api_key_check. */
export class PgApiKeyChecks implements ApiKeyChecks {
  constructor(private readonly ds: DataSource) {}

  async save(check: Parameters<ApiKeyChecks['save']>[0]): Promise<void> {
    await this.ds.query(
      `INSERT INTO api_key_check (checked_at, mode, host, warnings, deadline_day) VALUES (now(), $1, $2, $3, $4)
       ON CONFLICT (singleton) DO UPDATE SET checked_at = EXCLUDED.checked_at, mode = EXCLUDED.mode,
         host = EXCLUDED.host, warnings = EXCLUDED.warnings, deadline_day = EXCLUDED.deadline_day`,
      [check.mode, check.host, JSON.stringify(check.warnings), check.deadlineDay],
    );
  }

  async latest(): Promise<KeyCheckRecord | null> {
    const [row] = (await this.ds.query(
      `SELECT checked_at, host, warnings, deadline_day FROM api_key_check WHERE singleton`,
    )) as { checked_at: Date; host: string | null; warnings: string[]; deadline_day: number | null }[];
    if (!row) return null;
    return {
      checkedAt: new Date(row.checked_at),
      host: row.host,
      warnings: row.warnings,
      deadlineDay: row.deadline_day,
    };
  }
}
