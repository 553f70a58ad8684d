import type { DataSource } from 'typeorm';
import type { AuditEntry, AuditLog } from '../app/ports/audit.js';
import type { Tx } from '../app/ports/tx.js';
import { runner } from './transactions.js';

export class PgAuditLog implements AuditLog {
  constructor(private readonly ds: DataSource) {}

  async record(entry: AuditEntry, tx?: Tx): Promise<void> {
    const { actor } = entry;
    await runner(this.ds, tx).query(
      `INSERT INTO audit_log (actor, via, role, action, target, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        actor.id,
        actor.via,
        actor.role,
        entry.action,
        entry.target,
        entry.outcome,
        entry.detail === null || entry.detail === undefined ? null : JSON.stringify(entry.detail),
      ],
    );
  }
}
