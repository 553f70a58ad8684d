import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { decText } from '../../src/engine/money.js';
import { failedJobs, movePrice, startBtcGrid, startTestApp, type TestApp } from '../support/app.js';
import { checkInvariants } from '../support/invariants.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'test', via: 'cli', role: 'operator' };
const OPENING = '1000000';

/**
 * Paper predicts live: the paper exchange (paper and dry-run modes) takes a spot buy's fee in the base coin, as Bybit
 * does (protocols.md 1.7), so a cell sells what it received and keeps the fraction of a step as dust. Before, paper
 * charged every fee in quote and its P/L could not predict Bybit's.
 *
 * The grid: BTCUSDT 95,000..105,000 in 10 cells, 12,345 invested at 100,000: q = 0.012345 BTC (12,345 steps of
 * 0.000001), gap line 5. Fees 0.1 % maker and taker; the fee of a buy of q is 0.000012345 BTC, not a whole step.
 */
describe('paper buy fees in BTC', () => {
  let db: TestDatabase;
  let app: TestApp;
  let gridId: string;

  const balance = async (asset: string) => {
    const [row] = (await app.rt.ds.query(`SELECT total, locked FROM paper_balance WHERE asset = $1`, [
      asset,
    ])) as { total: string; locked: string }[];
    return { total: decText(row!.total), locked: decText(row!.locked) };
  };
  const grid = async () => {
    const g = await app.rt.grids.get(OPERATOR, gridId);
    if (!g.ok) throw new Error(g.error.message);
    return g.value;
  };
  const trade = async (side: string, price: string) => {
    const [row] = (await app.rt.ds.query(
      `SELECT quantity::text, fee::text, fee_currency, fee_quote::text, realized_pnl::text FROM trade
        WHERE side = $1 AND price = $2 ORDER BY id DESC LIMIT 1`,
      [side, price],
    )) as Record<string, string>[];
    return row;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp({ databaseUrl: db.url, prefix: testPrefix() });
    gridId = await startBtcGrid(app.rt, { lower: '95000', upper: '105000', investment: '12345' });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('the start buy pays its fee in BTC: quote pays the notional only, the cells sell what arrived', async () => {
    // Start buy 5 x 0.012345 = 0.061725 at 100,000 (taker): fee 0.000061725 BTC, worth 6.1725 USDT.
    const [execution] = (await app.rt.ds.query(
      `SELECT quantity::text, fee::text, fee_currency FROM paper_execution WHERE client_order_id LIKE '%-s0'`,
    )) as Record<string, string>[];
    expect(execution).toEqual({ quantity: '0.061725', fee: '0.000061725', fee_currency: 'BTC' });
    expect(await trade('buy', '100000')).toMatchObject({ fee_currency: 'BTC', fee_quote: '6.1725' });
    // The account: BTC grew by 0.061725 - 0.000061725; USDT paid 6172.5 and holds the five buys' notional only,
    // 0.012345 x (95,000 + 96,000 + 97,000 + 98,000 + 99,000) = 5987.325 (not x 1.001).
    expect(await balance('BTC')).toEqual({ total: '0.061663275', locked: '0.061663' });
    expect(await balance('USDT')).toEqual({ total: '993827.5', locked: '5987.325' });
    // The grid holds what arrived: 61,663 whole steps in its cells plus 0.275 of a step as dust. The top cell got
    // what the others left: 61,663 - 4 x 12,345 = 12,283 steps.
    expect(await grid()).toMatchObject({ baseQty: '0.061663275', quoteBalance: '6172.5', fees: '6.1725' });
    const sells = (await app.rt.ds.query(
      `SELECT price::text, quantity::text FROM paper_order WHERE status = 'open' AND side = 'sell' ORDER BY price`,
    )) as { price: string; quantity: string }[];
    expect(sells.map((s) => `${Number(s.price)} ${s.quantity}`)).toEqual([
      '101000 0.012345',
      '102000 0.012345',
      '103000 0.012345',
      '104000 0.012345',
      '105000 0.012283',
    ]);
    expect(await checkInvariants(app.rt.ds, OPENING)).toEqual([]);
  });

  it('a grid buy pays its fee in BTC and its cell sells the whole steps it received', async () => {
    await movePrice(app.rt, 'BTCUSDT', '98500'); // fills the buy at 99,000 (maker)
    // Fee 0.012345 x 0.001 = 0.000012345 BTC, worth 0.000012345 x 99,000 = 1.222155 USDT.
    expect(await trade('buy', '99000')).toEqual({
      quantity: '0.012345',
      fee: '0.000012345',
      fee_currency: 'BTC',
      fee_quote: '1.222155',
      realized_pnl: '0',
    });
    // Received 0.012332655: the cell sells 0.012332 at 100,000; 0.000000655 is dust.
    const [sell] = (await app.rt.ds.query(
      `SELECT quantity::text FROM paper_order WHERE status = 'open' AND side = 'sell' AND price = 100000`,
    )) as { quantity: string }[];
    expect(sell?.quantity).toBe('0.012332');
    expect(await balance('BTC')).toMatchObject({ total: '0.07399593' });
    expect(await grid()).toMatchObject({
      baseQty: '0.07399593',
      quoteBalance: '4950.345', // 6172.5 - 1222.155: no fee in quote
      fees: '7.394655',
    });
    expect(await checkInvariants(app.rt.ds, OPENING)).toEqual([]);
  });

  it('the sell pays its fee in USDT, and the dust stays in the grid and the account', async () => {
    await movePrice(app.rt, 'BTCUSDT', '100500'); // fills the sell of 0.012332 at 100,000
    // 1233.2 in, fee 1.2332 USDT, profit 0.012332 x 1,000 = 12.332.
    expect(await trade('sell', '100000')).toEqual({
      quantity: '0.012332',
      fee: '1.2332',
      fee_currency: 'USDT',
      fee_quote: '1.2332',
      realized_pnl: '12.332',
    });
    // BTC: 0.07399593 - 0.012332; the 0.00000093 of dust (0.000000275 + 0.000000655) is still there.
    expect(await balance('BTC')).toMatchObject({ total: '0.06166393' });
    expect(await grid()).toMatchObject({
      baseQty: '0.06166393',
      quoteBalance: '6182.3118', // 4950.345 + 1233.2 - 1.2332
      realizedPnl: '12.332',
      fees: '8.627855',
    });
    expect(await checkInvariants(app.rt.ds, OPENING)).toEqual([]);
    expect(await failedJobs(app.rt)).toEqual([]);
  });
});
