import type { ApiKeyInspector, KeyVerdict } from '../../app/ports/api-key.js';
import type { ApiKeyInfo, BybitApi } from './api.js';

/** What a spot grid needs from a key: spot trading, nothing else. */
const NEEDED: Readonly<Record<string, readonly string[]>> = { Spot: ['SpotTrade'] };

const SAFE_KEY = 'create a key with Spot trade permission (SpotTrade) and no Wallet permissions';

/** The key's info from GET /v5/user/query-api, judged here: the app sees verdicts, never Bybit's permission names. */
export class BybitKeyInspector implements ApiKeyInspector {
  constructor(
    private readonly api: Pick<BybitApi, 'apiKeyInfo'>,
    /** The host the key belongs to, named in the lines. */
    private readonly host: string,
  ) {}

  async inspect(): Promise<KeyVerdict> {
    return judgeApiKey(await this.api.apiKeyInfo(), this.host);
  }
}

/**
 * Judges a key by what GET /v5/user/query-api says of it. Refused: a key that can move funds off the exchange
 * (Wallet: Withdraw) and a key that cannot trade spot (read-only, or without SpotTrade). Warned about: permissions a
 * spot grid does not need and no IP binding; the expiry is given in days (the app says it when it nears). `where` names
 * the host.
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
