/**
 * The bodies of recent alerts sent without an id (Redis: src/db/tradingview-store.ts): within the window, the same
 * body again is the same alert (a resend, a double fire).
 */
export interface RecentAlertBodies {
  /** Notes the body's hash for `windowMs`; false when it was noted already within the window. */
  claim(hash: string, windowMs: number): Promise<boolean>;
  /** Forgets it: the alert was not recorded after all, so a resend is not a duplicate of it. */
  forget(hash: string): Promise<void>;
}
