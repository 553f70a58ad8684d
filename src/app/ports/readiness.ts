/** What a worker found when it last ran the readiness checks. */
export interface ReadinessRecord {
  readonly atMs: number;
  readonly checks: Readonly<Record<string, 'ok' | 'down'>>;
}

/** The workers' readiness record, shared with every api process. */
export interface ReadinessRecords {
  /** Replaces the record; it lapses after `ttlMs` unless saved again. */
  save(record: ReadinessRecord, ttlMs: number): Promise<void>;
  /** The record, null when there is none or it cannot be read; throws when the store does not answer. */
  load(): Promise<ReadinessRecord | null>;
}

/** The database, as a readiness check sees it. */
export interface DatabasePing {
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
}
