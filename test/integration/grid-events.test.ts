import { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GridProcessor } from '../../src/app/grid-processor.js';
import { PgGridStore } from '../../src/db/grid-store.js';
import { PgOrderStore } from '../../src/db/order-store.js';
import { PgTradeStore } from '../../src/db/trade-store.js';
import type { GridParams } from '../../src/engine/grid/params.js';
import { createGridState } from '../../src/engine/grid/state.js';
import { toPriceUnits } from '../../src/engine/money.js';
import { PaperExchange } from '../../src/exchange/paper/paper-exchange.js';
import { QueueNotifier } from '../../src/jobs/bus.js';
import { redisConnection } from '../../src/jobs/queues.js';
import { createLogger } from '../../src/log/logger.js';
import { simulatedInstrument } from '../../src/market/instruments.js';
import { migratedDatabase, REDIS_URL, type TestDatabase, testPrefix } from '../support/services.js';

/**
 * Grid events that change nothing write nothing and say nothing, on the real Postgres, paper exchange and
 * notifications queue: an ignored event leaves the grid's version where it was, and a pause delivered twice at once
 * (a redelivered job racing the first) pauses the grid once and is announced once, under a key named by the version
 * the pause produced, so a message for the same change can only ever be the same job.
 */
describe('grid events that change nothing', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let notifications: Queue;
  let processor: GridProcessor;
  let gridId: string;
  const instrument = simulatedInstrument('BTCUSDT')!;

  const version = async () =>
    ((await ds.query(`SELECT version FROM grid WHERE id = $1`, [gridId])) as [{ version: number }])[0]
      .version;
  /** The pause and resume messages queued for the grid: their job ids and titles. */
  const announced = async () =>
    (await notifications.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed']))
      .filter((j) => (j.data as { gridId?: string }).gridId === gridId && /^nt-(pause|resume)-/.test(j.id!))
      .map((j) => ({ id: j.id, title: (j.data as { title: string }).title }))
      .sort((a, b) => a.id!.localeCompare(b.id!));

  beforeAll(async () => {
    ({ db, ds } = await migratedDatabase());
    notifications = new Queue('notifications', {
      connection: redisConnection(REDIS_URL),
      prefix: testPrefix(),
    });
    const exchange = new PaperExchange(ds, {
      instruments: [instrument],
      makerFee: '0.001',
      takerFee: '0.001',
      openingQuoteBalance: '1000000',
    });
    await exchange.open();
    await exchange.onPrice('BTCUSDT', 1, '100000');
    const grids = new PgGridStore(ds);
    processor = new GridProcessor({
      grids,
      orders: new PgOrderStore(ds),
      trades: new PgTradeStore(ds),
      exchange,
      // The events the exchange's answers make (cancels confirmed) are not this test's concern.
      bus: { publish: async () => undefined },
      notifier: new QueueNotifier(notifications),
      log: createLogger({ level: 'error', format: 'json', isTty: false }),
    });
    gridId = await grids.nextId();
    const params: GridParams = {
      lower: '95000',
      upper: '105000',
      grids: 10,
      mode: 'arithmetic',
      investment: '10000',
      makerFee: '0.001',
      takerFee: '0.001',
      instrument,
    };
    await grids.insert({
      ...params,
      id: gridId,
      name: 'events',
      symbol: 'BTCUSDT',
      stopLoss: null,
      takeProfit: null,
      demo: false,
      source: 'cli',
      state: createGridState(gridId, params),
    });
    const started = await processor.apply(gridId, { kind: 'start', price: toPriceUnits('100000') });
    expect(started.applied).toBe(true);
  });

  afterAll(async () => {
    await notifications?.obliterate({ force: true }).catch(() => undefined);
    await notifications?.close();
    await ds?.destroy();
    await db?.drop();
  });

  it('an ignored event leaves the grid version unchanged', async () => {
    const before = await version();
    for (const event of [
      { kind: 'start', price: toPriceUnits('100000') },
      { kind: 'resume' },
      { kind: 'cancelled', clientOrderId: `${gridId}-9-9` },
      { kind: 'sell-base' },
    ] as const) {
      const out = await processor.apply(gridId, event);
      expect(out.applied, event.kind).toBe(false);
      expect(await version(), event.kind).toBe(before);
    }
    expect(await announced()).toEqual([]);
  });

  it('a pause delivered twice at once pauses once and is announced once, keyed by the version it produced', async () => {
    const before = await version();
    const outs = await Promise.all([
      processor.apply(gridId, { kind: 'pause' }),
      processor.apply(gridId, { kind: 'pause' }),
    ]);
    expect(outs.map((o) => o.applied).sort()).toEqual([false, true]);
    expect(await version()).toBe(before + 1);
    // And once more, after the fact (the job redelivered once its first run had finished).
    expect((await processor.apply(gridId, { kind: 'pause' })).applied).toBe(false);
    expect(await version()).toBe(before + 1);
    expect(await announced()).toEqual([
      { id: `nt-pause-${gridId}-v${before + 1}`, title: `BTCUSDT grid ${gridId} paused` },
    ]);
    // A later pause is a new change, and a new message.
    await processor.apply(gridId, { kind: 'resume' });
    await processor.apply(gridId, { kind: 'pause' });
    expect((await announced()).map((n) => n.id)).toEqual([
      `nt-pause-${gridId}-v${before + 1}`,
      `nt-pause-${gridId}-v${before + 3}`,
      `nt-resume-${gridId}-v${before + 2}`,
    ]);
  });
});
