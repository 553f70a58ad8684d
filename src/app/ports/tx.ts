/**
 * A database transaction, opaque above src/db: app code holds one only to hand it back to stores, so several store
 * calls commit together. src/db/transactions.ts makes and unwraps it.
 */
export interface Tx {
  readonly __tx: 'a transaction of src/db';
}

export interface Transactions {
  /** Runs `work` in one transaction, retried from the start on a serialization failure or a deadlock. */
  run<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
}
