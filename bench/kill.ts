import { randomBytes } from 'node:crypto';
import type { Actor } from '../src/app/actor.js';
import { type App, createApp } from '../src/composition/app.js';
import { startWorker } from '../src/composition/worker-role.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log/logger.js';
import { startFakeBybit } from '../test/fakes/bybit/server.js';
import { report, withDatabase } from './support.js';

const OPERATOR: Actor = { id: 'bench', via: 'cli', role: 'operator' };

/** Grids of 20 lines around 100 on each symbol, started at 100: one open order per line but the gap line. */
async function openGrids(rt: App, symbols: readonly string[], perSymbol: number): Promise<number> {
  for (const symbol of symbols) {
    await rt.prices.set([{ symbol, price: '100', atMs: Date.now() }]);
    if (rt.paper) await rt.paper.onPrice(symbol, 1, '100');
    for (let k = 0; k < perSymbol; k++) {
      const r = await rt.grids.create(OPERATOR, {
        symbol,
        lower: String(90 - k),
        upper: String(110 + k),
        grids: 20,
        investment: '1000',
      });
      if (!r.ok) throw new Error(r.error.message);
    }
  }
  // The start buys fill, and their cells' sells go out: wait until the ladder is complete and stays so.
  let open = -1;
  for (let stable = 0; stable < 5; ) {
    await new Promise((r) => setTimeout(r, 300));
    const [{ n, pending }] = (await rt.ds.query(
      `SELECT count(*) FILTER (WHERE status = 'placed' AND NOT cancel_requested)::int AS n,
              count(*) FILTER (WHERE status IN ('intent', 'placing'))::int AS pending FROM grid_order`,
    )) as [{ n: number; pending: number }];
    stable = n === open && pending === 0 ? stable + 1 : 0;
    open = n;
  }
  return open;
}

/** The incident's duration: from the trigger to the exchange confirming no order of ours is open. */
async function timeKill(rt: App): Promise<{ ms: number; before: number; after: number; outcome: string }> {
  const r = await rt.risk.kill(OPERATOR, 'bench');
  if (!r.ok) throw new Error(r.error.message);
  await rt.risk.settled();
  return {
    ms: r.value.durationMs,
    before: r.value.ordersOpenBefore,
    after: r.value.ordersOpenAfter,
    outcome: r.value.outcome,
  };
}

export async function benchKill(): Promise<void> {
  console.log('\n# Kill switch: from the trigger to the last cancellation confirmed by the exchange');
  const log = createLogger({ level: 'error', format: 'json', isTty: false });
  await withDatabase(async (url) => {
    const symbols = Array.from({ length: 10 }, (_, i) => `SIM${String(i + 1).padStart(3, '0')}USDT`);
    const config = loadConfig({
      DATABASE_URL: url,
      QUEUE_PREFIX: `bench_${randomBytes(3).toString('hex')}`,
      MARKET_DATA: 'none',
      MARKET_SYMBOLS: symbols.join(','),
      DEMO_GRIDS: 'false',
      LOG_LEVEL: 'error',
    });
    const rt = await createApp(config, log);
    const worker = await startWorker(rt);
    try {
      const open = await openGrids(rt, symbols, 5);
      const k = await timeKill(rt);
      report(
        'paper exchange, 50 grids',
        `${k.ms.toFixed(0)} ms`,
        `(${open} open orders → ${k.after} left, ${k.outcome}; target ≤ 1 s)`,
      );
    } finally {
      await worker.stop();
      await rt.close();
    }
  });
  await withDatabase(async (url) => {
    // Bybit caps an account at 500 open spot orders, and so does the fake: 25 grids of 20 lines on 5 symbols.
    const symbols = Array.from({ length: 5 }, (_, i) => `SIM${String(i + 1).padStart(3, '0')}USDT`);
    const fake = await startFakeBybit({
      apiKey: 'bench',
      apiSecret: 'bench-secret',
      instruments: symbols.map((symbol) => ({
        symbol,
        baseCoin: symbol.replace('USDT', ''),
        quoteCoin: 'USDT',
        tickSize: '0.01',
        basePrecision: '0.001',
        minOrderQty: '0.001',
        minOrderAmt: '1',
      })),
      balances: { USDT: '10000000' },
    });
    for (const s of symbols) fake.setPrice(s, '100');
    const config = loadConfig({
      DATABASE_URL: url,
      QUEUE_PREFIX: `bench_${randomBytes(3).toString('hex')}`,
      TRADING_MODE: 'testnet',
      BYBIT_API_KEY: 'bench',
      BYBIT_API_SECRET: 'bench-secret',
      BYBIT_REST_URL: fake.url,
      BYBIT_WS_PUBLIC_URL: fake.wsPublicUrl,
      BYBIT_WS_PRIVATE_URL: fake.wsPrivateUrl,
      MARKET_SYMBOLS: symbols.join(','),
      DEMO_GRIDS: 'false',
      LOG_LEVEL: 'error',
    });
    const rt = await createApp(config, log);
    const worker = await startWorker(rt);
    try {
      const open = await openGrids(rt, symbols, 5);
      const k = await timeKill(rt);
      report(
        'fake Bybit (its default latency), 25 grids',
        `${k.ms.toFixed(0)} ms`,
        `(${open} open orders, the account's maximum → ${k.after} left, ${k.outcome}; target ≤ 3 s)`,
      );
    } finally {
      await worker.stop();
      await rt.close();
      await fake.close();
    }
  });
}
