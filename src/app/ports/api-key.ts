/** The exchange's judgement of its API key: whether a spot grid may trade with it, and what is unwise about it. */
export interface KeyVerdict {
  /** The one line that stops the start, or null. */
  readonly refusal: string | null;
  /** Lines said at start and in the daily report, the expiry excepted (it counts down: see expiryWarning). */
  readonly warnings: readonly string[];
  /** Days left before the key expires, when it expires at all. */
  readonly deadlineDay: number | null;
}

/**
 * The key's info, asked of the exchange and judged by its adapter, which alone knows what the exchange's permission
 * names mean (Bybit: exchange/bybit/key-check.ts).
 */
export interface ApiKeyInspector {
  /** Throws an ExchangeError (`auth`: the key, secret or clock is wrong) or any error when the key cannot be read. */
  inspect(): Promise<KeyVerdict>;
}

/** The latest key check, as stored for the daily report. */
export interface KeyCheckRecord {
  readonly checkedAt: Date;
  /** Where the key belongs (the exchange's host); null when unknown. */
  readonly host: string | null;
  readonly warnings: readonly string[];
  /** Days left before the key expired, on the day of the check. */
  readonly deadlineDay: number | null;
}

/** Where the latest key check is kept: one record, replaced by every check. */
export interface ApiKeyChecks {
  /** Replaces the latest check with this one, checked now (the database's clock). */
  save(check: {
    readonly mode: string;
    readonly host: string;
    readonly warnings: readonly string[];
    readonly deadlineDay: number | null;
  }): Promise<void>;
  /** The latest check, or null when no key was ever checked (paper, dry-run). */
  latest(): Promise<KeyCheckRecord | null>;
}
