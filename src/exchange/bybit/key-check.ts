import type { ApiKeyInfo } from './api.js';

/** What a spot grid needs from a key: spot trading, nothing else. */
const NEEDED: Readonly<Record<string, readonly string[]>> = { Spot: ['SpotTrade'] };

/** How soon an expiring key is said to expire (days), at start and in the daily report. */
export const KEY_EXPIRY_WARN_DAYS = 14;

const SAFE_KEY = 'create a key with Spot trade permission (SpotTrade) and no Wallet permissions';

export interface KeyVerdict {
  /** The one line that stops the start, or null. */
  readonly refusal: string | null;
  /** Lines said at start and in the daily report, the expiry excepted (it counts down: see expiryWarning). */
  readonly warnings: readonly string[];
  /** Days left before the key expires, when it expires at all. */
  readonly deadlineDay: number | null;
}

/**
 * Judges a key by what GET /v5/user/query-api says of it. Refused: a key that can move funds off the exchange
 * (Wallet: Withdraw) and a key that cannot trade spot (read-only, or without SpotTrade). Warned about: permissions a
 * spot grid does not need, no IP binding, and an expiry within KEY_EXPIRY_WARN_DAYS. `where` names the host.
 */
export function judgeApiKey(info: ApiKeyInfo, where: string): KeyVerdict {
  const key = `the Bybit API key for ${where}`;
  const granted = Object.entries(info.permissions).map(([group, list]) => [group, list ?? []] as const);
  const has = (group: string, permission: string) =>
    granted.some(([g, list]) => g === group && list.includes(permission));
  let refusal: string | null = null;
  if (has('Wallet', 'Withdraw'))
    refusal = `${key} can withdraw funds: create a key without the Withdraw permission, bound to this server's IP`;
  else if (info.readOnly === 1) refusal = `${key} is read-only: ${SAFE_KEY}`;
  else if (!has('Spot', 'SpotTrade'))
    refusal = `${key} has no Spot trade permission (SpotTrade): ${SAFE_KEY}`;

  const warnings: string[] = [];
  const extra = granted
    .map(([group, list]) => [group, list.filter((p) => !NEEDED[group]?.includes(p))] as const)
    .filter(([, list]) => list.length > 0)
    .map(([group, list]) => `${group}: ${list.join(', ')}`);
  if (extra.length)
    warnings.push(
      `${key} has permissions a spot grid does not need (${extra.join('; ')}): create one with Spot trade (SpotTrade) only`,
    );
  const unbound = info.ips.length === 0 || info.ips.includes('*');
  if (unbound)
    warnings.push(
      `${key} is bound to no IP address (anyone who holds it can use it, and it expires): create one bound to this server's IP`,
    );
  // Bybit sends deadlineDay only for keys that expire (bound to no IP, or after a password change); what a bound key
  // gets instead is unverified (0 or -1 with a 1970 expiredAt are seen in the wild), so a bound key's figure counts only
  // with a real expiry date beside it.
  const expiry = info.expiredAt ? Date.parse(info.expiredAt) : Number.NaN;
  const expires = unbound || (Number.isFinite(expiry) && expiry > Date.UTC(2000, 0, 1));
  const deadlineDay =
    expires && typeof info.deadlineDay === 'number' && info.deadlineDay >= 0 ? info.deadlineDay : null;
  return { refusal, warnings, deadlineDay };
}

/** The expiry line, once fewer than KEY_EXPIRY_WARN_DAYS days are left; null before. */
export function expiryWarning(daysLeft: number | null, where: string): string | null {
  if (daysLeft === null || daysLeft > KEY_EXPIRY_WARN_DAYS) return null;
  const when = daysLeft <= 0 ? 'today' : daysLeft === 1 ? 'in 1 day' : `in ${daysLeft} days`;
  return `the Bybit API key for ${where} expires ${when}: every call fails after that; create a new one bound to this server's IP (such keys do not expire)`;
}
