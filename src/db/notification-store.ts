import type { DataSource } from 'typeorm';
import type { NotificationCategory } from '../app/ports/core.js';
import type { NotificationFailures, NotifyPrefs } from '../app/ports/notifications.js';

/** The /notify choices, kept in Postgres: a restart forgets nothing. */
export class PgNotifyPrefs implements NotifyPrefs {
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

/** notification_failure: what could not be delivered, and why. */
export class PgNotificationFailures implements NotificationFailures {
  constructor(private readonly ds: DataSource) {}

  async record(f: { destination: string; key: string; title: string; reason: string }): Promise<void> {
    await this.ds.query(
      `INSERT INTO notification_failure (destination, notification_key, title, reason) VALUES ($1, $2, $3, $4)
           ON CONFLICT (destination, notification_key) DO NOTHING`,
      [f.destination, f.key, f.title, f.reason],
    );
  }

  async forget(destination: string, key: string): Promise<void> {
    await this.ds.query(`DELETE FROM notification_failure WHERE destination = $1 AND notification_key = $2`, [
      destination,
      key,
    ]);
  }
}
