import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Chat users' notification choices (/notify), and what could not be delivered (kept with its reason). */
export class Chat1764350000000 implements MigrationInterface {
  name = 'Chat1764350000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notify_pref (
        transport text NOT NULL,
        user_id text NOT NULL,
        muted text[] NOT NULL DEFAULT '{}',
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (transport, user_id)
      )`);
    await q.query(`
      CREATE TABLE notification_failure (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        destination text NOT NULL,
        notification_key text NOT NULL,
        title text NOT NULL,
        reason text NOT NULL,
        UNIQUE (destination, notification_key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS notification_failure`);
    await q.query(`DROP TABLE IF EXISTS notify_pref`);
  }
}
