import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallOutcome, CallStats, CallStatsReader, CallStatsStore } from '../app/ports/risk.js';

/** Set while a health probe runs: its calls are the probe's business, not the trading's. */
const probing = new AsyncLocalStorage<true>();

/**
 * Runs a health probe (readiness: is the exchange reachable?) whose exchange calls are not counted: a probe
 * failing, or run often, must not move the error rate the kill switch reads.
 */
export function asProbe<T>(probe: () => Promise<T>): Promise<T> {
  return probing.run(true, probe);
}

/**
 * Every exchange call's outcome, as the exchange clients report it, into the store the risk worker reads the error
 * rate from (src/db/call-stats-store.ts). It stays here, beside the calls, because what it adds to the store is the
 * exchange's business: calls made inside a probe are left out, and counting never slows or breaks a trading call.
 */
export class CallStatsRecorder implements CallStatsReader {
  constructor(private readonly store: CallStatsStore) {}

  record(outcome: CallOutcome): void {
    if (probing.getStore()) return;
    // Fire and forget: counting must never slow or break a trading call.
    this.store.add(outcome).catch(() => undefined);
  }

  read(windowMs: number): Promise<CallStats> {
    return this.store.read(windowMs);
  }
}
