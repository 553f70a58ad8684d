/** A destructive chat command as asked, waiting for its asker's Confirm. */
export interface PendingConfirmation {
  readonly transport: string;
  readonly userId: string;
  readonly command: string;
  readonly args: readonly string[];
}

/**
 * Where pending confirmations wait (Redis: src/db/confirmation-store.ts), each under a random id, for a limited time.
 * An id is 16 lowercase hex digits: it travels in the buttons' data.
 */
export interface Confirmations {
  /** Keeps `pending` for `ttlMs` and returns its id. */
  remember(pending: PendingConfirmation, ttlMs: number): Promise<string>;
  /** What the id holds; null once expired or taken. */
  peek(id: string): Promise<PendingConfirmation | null>;
  /** Takes it for good: true for exactly one caller, however many press at the same moment. */
  take(id: string): Promise<boolean>;
}
