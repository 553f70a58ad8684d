/** Where this database's identity is read, and which database a Redis key prefix last served. */
export interface InstallScopeStore {
  /** The database's own id, drawn once by a migration; null when the table is empty (not migrated). */
  databaseId(): Promise<string | null>;
  /** Records that `prefix` now serves `databaseId`; returns the database it served before, null for none. */
  claimPrefix(prefix: string, databaseId: string): Promise<string | null>;
}
