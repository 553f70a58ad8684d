import type { DataSource } from 'typeorm';
import type { NotificationCategory } from '../app/ports.js';

/**
 * Which notification categories each chat user has turned off (/notify). Kept in Postgres: a restart forgets
 * nothing. Kill-switch alerts are critical and reach everyone whatever they chose.
 */
export class NotifyPrefs {
  constructor(private readonly ds: DataSource) {}

  async muted(transport: string, userId: string): Promise<NotificationCategory[]> {
    const [row] = (await this.ds.query(
      `SELECT muted FROM notify_pref WHERE transport = $1 AND user_id = $2`,
      [transport, userId],
    )) as { muted: NotificationCategory[] }[];
    return row?.muted ?? [];
  }

  async set(transport: string, userId: string, category: NotificationCategory, on: boolean): Promise<void> {
    await this.ds.query(
      `INSERT INTO notify_pref (transport, user_id, muted) VALUES ($1, $2, CASE WHEN $4 THEN '{}'::text[] ELSE ARRAY[$3] END)
       ON CONFLICT (transport, user_id) DO UPDATE SET updated_at = now(), muted = CASE
         WHEN $4 THEN array_remove(notify_pref.muted, $3)
         WHEN $3 = ANY(notify_pref.muted) THEN notify_pref.muted
         ELSE array_append(notify_pref.muted, $3) END`,
      [transport, userId, category, on],
    );
  }
}
