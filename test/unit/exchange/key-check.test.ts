import { describe, expect, it } from 'vitest';
import { expiryWarning } from '../../../src/app/api-key-check.js';
import { ApiKeyInfo } from '../../../src/exchange/bybit/api.js';
import { judgeApiKey } from '../../../src/exchange/bybit/key-check.js';

const HOST = 'api.bybit.com';

/** A key as GET /v5/user/query-api returns it (Bybit's own example, with the permissions a spot grid needs). */
function key(over: Record<string, unknown> = {}): ApiKeyInfo {
  return ApiKeyInfo.parse({
    id: '16651472',
    note: 'grid',
    apiKey: 'opjSlSOzqIeXROT5rq',
    readOnly: 0,
    secret: '',
    permissions: {
      ContractTrade: [],
      Spot: ['SpotTrade'],
      Wallet: [],
      Options: [],
      Derivatives: [],
      CopyTrading: [],
      BlockTrade: [],
      Exchange: [],
      NFT: [],
    },
    ips: ['203.0.113.7'],
    type: 1,
    deadlineDay: -1,
    expiredAt: '1970-01-01T00:00:00Z',
    createdAt: '2023-02-15T03:13:24Z',
    uta: 1,
    ...over,
  });
}

// What the start refuses and warns about: a wrong verdict either lets a dangerous key trade or stops a good one.
describe('the API key check', () => {
  it('passes a spot-only key bound to an IP, with nothing to say', () => {
    expect(judgeApiKey(key(), HOST)).toEqual({ refusal: null, warnings: [], deadlineDay: null });
  });

  it('refuses a read-only key and a key without spot trading, naming the key to create', () => {
    expect(judgeApiKey(key({ readOnly: 1 }), HOST).refusal).toBe(
      'the Bybit API key for api.bybit.com is read-only: create a key with Spot trade permission (SpotTrade) and no Wallet permissions',
    );
    expect(judgeApiKey(key({ permissions: { Spot: [], ContractTrade: ['Order'] } }), HOST).refusal).toBe(
      'the Bybit API key for api.bybit.com has no Spot trade permission (SpotTrade): create a key with Spot trade permission (SpotTrade) and no Wallet permissions',
    );
  });

  it('refuses a key that can withdraw, whatever else it may do', () => {
    const verdict = judgeApiKey(
      key({ permissions: { Spot: ['SpotTrade'], Wallet: ['AccountTransfer', 'Withdraw'] } }),
      HOST,
    );
    expect(verdict.refusal).toBe(
      "the Bybit API key for api.bybit.com can withdraw funds: create a key without the Withdraw permission, bound to this server's IP",
    );
  });

  it('warns about permissions a spot grid does not need, one line for all', () => {
    const verdict = judgeApiKey(
      key({
        permissions: {
          Spot: ['SpotTrade'],
          ContractTrade: ['Order', 'Position'],
          Wallet: ['AccountTransfer'],
          Earn: ['Earn'],
          NFT: [],
        },
      }),
      HOST,
    );
    expect(verdict.refusal).toBeNull();
    expect(verdict.warnings).toEqual([
      'the Bybit API key for api.bybit.com has permissions a spot grid does not need (ContractTrade: Order, Position; Wallet: AccountTransfer; Earn: Earn): create one with Spot trade (SpotTrade) only',
    ]);
  });

  it('warns about a key bound to no IP, and counts its days only when it expires', () => {
    const unbound = judgeApiKey(
      key({ ips: ['*'], deadlineDay: 88, expiredAt: '2023-05-15T03:13:24Z' }),
      HOST,
    );
    expect(unbound.warnings).toEqual([
      "the Bybit API key for api.bybit.com is bound to no IP address (anyone who holds it can use it, and it expires): create one bound to this server's IP",
    ]);
    expect(unbound.deadlineDay).toBe(88);
    // A bound key's placeholder figures (0 or -1 beside the epoch) are no expiry.
    expect(judgeApiKey(key({ deadlineDay: 0 }), HOST).deadlineDay).toBeNull();
    // After a password change a bound key expires too: a real date beside the figure.
    expect(judgeApiKey(key({ deadlineDay: 5, expiredAt: '2030-01-01T00:00:00Z' }), HOST).deadlineDay).toBe(5);
  });

  it('says the expiry from 14 days left', () => {
    expect(expiryWarning(15, HOST)).toBeNull();
    expect(expiryWarning(14, HOST)).toBe(
      "the Bybit API key for api.bybit.com expires in 14 days: every call fails after that; create a new one bound to this server's IP (such keys do not expire)",
    );
    expect(expiryWarning(1, HOST)).toContain('expires in 1 day:');
    expect(expiryWarning(0, HOST)).toContain('expires today:');
    expect(expiryWarning(null, HOST)).toBeNull();
  });
});
