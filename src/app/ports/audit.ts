import type { Actor } from '../actor.js';
import type { Tx } from './tx.js';

/** One line of the audit log: who did what to which target, through which surface, and how it ended. */
export interface AuditEntry {
  /** Who; a chat user without rights is recorded with the role 'none' (a refused stranger is audited too). */
  readonly actor: Pick<Actor, 'id' | 'via'> & { readonly role: Actor['role'] | 'none' };
  readonly action: string;
  readonly target: string | null;
  /** 'ok', 'refused: <kind>', 'failed', ... */
  readonly outcome: string;
  /** Any JSON-able detail; null for none. */
  readonly detail: unknown;
}

export interface AuditLog {
  /** Appends an entry; inside `tx` when given, so the entry commits with the change it describes. */
  record(entry: AuditEntry, tx?: Tx): Promise<void>;
}
