import { type AddressInfo, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { type FakeCoinGecko, startFakeCoinGecko } from '../fakes/coingecko/server.js';
import { startFakeTelegram } from '../fakes/telegram/server.js';
import type { FakeTelegram, FakeTelegramMessage, FakeTelegramUser } from '../fakes/telegram/types.js';
import { movePrice, settle, startBtcGrid, startTestApp, type TestApp } from '../support/app.js';
import { inspectPng } from '../support/png.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'setup', via: 'cli', role: 'operator' };
const ALICE: FakeTelegramUser = { id: 1001, first_name: 'Alice', username: 'alice' }; // operator
const BOB: FakeTelegramUser = { id: 1002, first_name: 'Bob' }; // read-only
const MALLORY: FakeTelegramUser = { id: 6666, first_name: 'Mallory' }; // nobody
const OPS_GROUP = { id: -1001234567, type: 'supergroup', title: 'ops' } as const;

/** The bot role against a fake Telegram Bot API, through telegraf: what a user on a phone sees. */
describe('Telegram chat-ops', () => {
  let tg: FakeTelegram;
  let cg: FakeCoinGecko;
  let db: TestDatabase;
  let app: TestApp;

  const toChat = (user: FakeTelegramUser) => (m: FakeTelegramMessage) => m.chat.id === user.id && !m.deleted;
  // Fill notifications reach the operator's private chat too: a command's answer is anything else.
  const notNotification = (m: FakeTelegramMessage) => !/^([A-Z0-9]+USDT (buy|sell) |\d+ fills)/.test(body(m));
  // Messages come back as snapshots: "new" means a chat and message id not seen before.
  const seen = () => new Set(tg.sent().map((m) => `${m.chat.id}:${m.message_id}`));
  const fresh = (before: Set<string>) => (m: FakeTelegramMessage) =>
    !before.has(`${m.chat.id}:${m.message_id}`);
  const said = (user: FakeTelegramUser, text: string, chatId: number = user.id) => {
    const before = seen();
    tg.userSays(user, chatId === user.id ? chatId : OPS_GROUP, text);
    return (pred: (m: FakeTelegramMessage) => boolean = notNotification, timeoutMs = 10_000) =>
      tg.waitForMessage((m) => fresh(before)(m) && m.chat.id === chatId && pred(m), timeoutMs);
  };
  const body = (m: FakeTelegramMessage) => m.text ?? m.caption ?? '';

  beforeAll(async () => {
    tg = await startFakeTelegram({ repeatedPollFloorSeconds: 0 });
    cg = await startFakeCoinGecko();
    db = await createTestDatabase();
    app = await startTestApp({
      databaseUrl: db.url,
      prefix: testPrefix(),
      bot: true,
      env: {
        TELEGRAM_BOT_TOKEN: tg.token,
        TELEGRAM_API_ROOT: tg.apiRoot,
        TELEGRAM_ALLOWED_USERS: String(ALICE.id),
        TELEGRAM_READONLY_USERS: String(BOB.id),
        TELEGRAM_CHAT_GAP_MS: '0',
        CHAT_CONFIRM_TTL_MS: '1500',
        NOTIFY_DIGEST_MS: '300',
        COINGECKO_URL: cg.url,
      },
    });
    await startBtcGrid(app.rt);
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await tg?.close();
    await cg?.close();
  });

  it('registers the command menu', () => {
    const names = tg.commands().map((c) => c.command);
    expect(names).toEqual(
      expect.arrayContaining(['status', 'pnl', 'kill', 'reset', 'create', 'notify', 'version']),
    );
  });

  it('/status shows every grid with its figures', async () => {
    const m = await said(ALICE, '/status')((x) => body(x).includes('active grid'));
    const text = body(m);
    expect(text).toContain('1 active grid · paper');
    expect(text).toContain('g1 BTCUSDT · running · paper');
    expect(text).toContain('price 100000 · range 90000–110000 · 10 arithmetic grids');
    expect(text).toMatch(/position \d+(\.\d+)? BTC · 10 open orders/);
    expect(m.parse_mode).toBe('HTML');
  });

  it('refuses an unknown user in one line, and audits the attempt', async () => {
    const m = await said(MALLORY, '/kill')();
    expect(body(m)).toBe('❌ You are not allowed to use this bot.');
    const [row] = (await app.rt.ds.query(
      `SELECT actor, via, role, action, outcome FROM audit_log WHERE actor = $1`,
      [String(MALLORY.id)],
    )) as Record<string, string>[];
    expect(row).toEqual({
      actor: '6666',
      via: 'telegram',
      role: 'none',
      action: '/kill',
      outcome: 'refused: unauthorized',
    });
    expect(await app.rt.risk.isKilled()).toBe(false);
  });

  it('a read-only user may read but not act; a bad argument gets an example', async () => {
    expect(body(await said(BOB, '/pause BTCUSDT')())).toBe('❌ /pause needs an operator; you may only read');
    expect(body(await said(ALICE, '/pnl fortnight')())).toBe(
      '❌ unknown period "fortnight": use day, week, month or all\nExample: /pnl week',
    );
    expect(body(await said(ALICE, '/create BTCUSDT 110000 90000 10 1000')())).toMatch(
      /^❌ .*lower.*upper.*\nExample: \/create BTCUSDT 90000 110000 20 1000$/s,
    );
  });

  it('/kill asks to confirm; another user cannot press it; it expires; the asker confirms', async () => {
    // An expired confirmation does nothing.
    const first = await said(ALICE, '/kill')((m) => m.reply_markup !== undefined);
    const ok = (m: FakeTelegramMessage) => m.reply_markup!.inline_keyboard![0]![0]!.callback_data!;
    await new Promise((r) => setTimeout(r, 1700));
    let before = seen();
    tg.userPresses(ALICE, ALICE.id, first.message_id, ok(first));
    const expired = await tg.waitForMessage((m) => fresh(before)(m) && toChat(ALICE)(m));
    expect(body(expired)).toBe(
      '❌ This confirmation has expired or was used already; send the command again.',
    );
    expect(await app.rt.risk.isKilled()).toBe(false);
    // A fresh one, in the team's group: Bob (read-only) presses Alice's button and is refused.
    const prompt = await said(ALICE, '/kill', OPS_GROUP.id)((m) => m.reply_markup !== undefined);
    expect(body(prompt)).toContain('Pull the kill switch?');
    tg.userPresses(BOB, OPS_GROUP.id, prompt.message_id, ok(prompt));
    await expect
      .poll(() => tg.callbackAnswers().some((a) => a.text === 'Only the user who asked can confirm this.'))
      .toBe(true);
    expect(await app.rt.risk.isKilled()).toBe(false);
    before = seen();
    tg.userPresses(ALICE, OPS_GROUP.id, prompt.message_id, ok(prompt));
    const done = await tg.waitForMessage(
      (m) => fresh(before)(m) && m.chat.id === OPS_GROUP.id && body(m).includes('Kill switch ON'),
    );
    expect(body(done)).toMatch(/1 grids stopped; 10 open orders, 0 left \(all-cancelled\)/);
    expect(await app.rt.risk.isKilled()).toBe(true);
    // The kill alert reaches the operator's chat once, loudly.
    const alert = await tg.waitForMessage((m) => toChat(ALICE)(m) && body(m).startsWith('🚨 KILL SWITCH ON'));
    expect(body(alert)).toContain('manual: telegram 1001');
    await app.rt.risk.settled();
    // /reset shows the incident before it asks.
    const reset = await said(ALICE, '/reset')((m) => m.reply_markup !== undefined);
    expect(body(reset)).toMatch(/incident #\d+: 1 grids stopped, 10 orders, 0 left \(all-cancelled\)/);
    before = seen();
    tg.userPresses(ALICE, ALICE.id, reset.message_id, ok(reset));
    await tg.waitForMessage((m) => fresh(before)(m) && body(m).includes('Kill switch off'));
    // /risk keeps the incident on show after the reset.
    const risk = await said(ALICE, '/risk')((m) => body(m).startsWith('Risk'));
    expect(body(risk)).toMatch(/kill switch off\n/);
    expect(body(risk)).toMatch(
      /last incident #\d+ at .+: manual: telegram 1001 by telegram:1001; 1 grids stopped/,
    );
    expect(await app.rt.risk.isKilled()).toBe(false);
    expect(tg.sent().filter((m) => body(m).startsWith('🚨 KILL SWITCH ON'))).toHaveLength(1);
  });

  // Protects: a press by someone the bot does not know, on a confirmation in a shared chat, is answered to that
  // person alone (an alert on their screen) and leaves the asker's message and buttons as they were.
  it("a stranger's press on a confirmation is refused to them alone; the asker's buttons stay", async () => {
    const prompt = await said(ALICE, '/stop all', OPS_GROUP.id)((m) => m.reply_markup !== undefined);
    const confirm = prompt.reply_markup!.inline_keyboard![0]![0]!.callback_data!;
    const before = seen();
    const answered = tg.callbackAnswers().length;
    tg.userPresses(MALLORY, OPS_GROUP.id, prompt.message_id, confirm);
    await expect.poll(() => tg.callbackAnswers().length).toBe(answered + 1);
    expect(tg.callbackAnswers().at(-1)).toMatchObject({
      text: 'You are not allowed to use this bot.',
      show_alert: true,
    });
    await expect
      .poll(async () =>
        app.rt.ds.query(`SELECT outcome FROM audit_log WHERE actor = $1 AND action LIKE 'press %'`, [
          String(MALLORY.id),
        ]),
      )
      .toEqual([{ outcome: 'refused: unauthorized' }]);
    // Once the bot has answered a later command in the group, it has done all it would do with the press.
    const version = await said(ALICE, '/version', OPS_GROUP.id)((m) => body(m).startsWith('GridOps'));
    const now = tg.sent().find((m) => m.chat.id === OPS_GROUP.id && m.message_id === prompt.message_id)!;
    expect(now.reply_markup).toEqual(prompt.reply_markup);
    expect(now.edit_date).toBeUndefined();
    expect(tg.sent().filter(fresh(before))).toEqual([version]);
  });

  it('a fill is notified once, with its fee; a 429 is waited out', async () => {
    await movePrice(app.rt, 'ETHUSDT', '3500');
    const created = await app.rt.grids.create(OPERATOR, {
      symbol: 'ETHUSDT',
      lower: '3000',
      upper: '4000',
      grids: 10,
      investment: '5000',
    });
    if (!created.ok) throw new Error(created.error.message);
    await settle(app.rt);
    tg.floodNext(1, 1);
    await movePrice(app.rt, 'ETHUSDT', '3380'); // fills the buy at 3400
    const fill = await tg.waitForMessage((m) => toChat(ALICE)(m) && body(m).includes('@ 3400'), 15_000);
    // Alone, or in a digest with the start buy: each fill with its fee.
    expect(body(fill)).toMatch(/ETHUSDT buy \d+(\.\d+)? @ 3400(\n| · )fee \d+(\.\d+)? (ETH|USDT)/);
    expect(tg.flooded()).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 800));
    expect(
      tg.sent().filter((m) => body(m).includes('ETHUSDT buy') && body(m).includes('@ 3400')),
    ).toHaveLength(1);
  });

  it('/pnl sends the chart as a photo; /notify mutes fills for this user', async () => {
    await app.rt.monitor.evaluate(); // an equity point for the chart
    const m = await said(ALICE, '/pnl day')((x) => x.method === 'sendPhoto');
    const png = await inspectPng(m.photo!.bytes);
    expect(png).toMatchObject({ width: 1000, height: 560 });
    expect(png.colours).toBeGreaterThan(50);
    expect(m.caption).toMatch(/^P\/L, last 24 hours: -?\d/);
    const n = await said(ALICE, '/notify fills off')();
    expect(body(n)).toContain('fills: off');
    expect(await app.rt.ds.query(`SELECT muted FROM notify_pref WHERE user_id = '1001'`)).toEqual([
      { muted: ['fills'] },
    ]);
    // Muted: the next fill does not reach Alice.
    const before = seen();
    await movePrice(app.rt, 'ETHUSDT', '3290'); // the buy at 3300 fills
    await settle(app.rt);
    await new Promise((r) => setTimeout(r, 800));
    expect(tg.sent().filter((x) => fresh(before)(x) && body(x).includes('@ 3300'))).toEqual([]);
    const [{ fills }] = (await app.rt.ds.query(
      `SELECT count(*)::int AS fills FROM trade WHERE price = 3300`,
    )) as [{ fills: number }];
    expect(fills).toBe(1);
  });

  it('the scheduled report reaches the operator with its chart', async () => {
    await app.rt.queues.reports.add('daily', { kind: 'daily', day: '2026-01-01' });
    const m = await tg.waitForMessage(
      (x) => toChat(ALICE)(x) && (x.caption ?? '').includes('Daily report 2026-01-01'),
    );
    expect(m.method).toBe('sendPhoto');
    expect(await inspectPng(m.photo!.bytes)).toMatchObject({ width: 1000 });
  });

  it('/create previews the grid and creates it once the asker confirms', async () => {
    await movePrice(app.rt, 'SOLUSDT', '185');
    const prompt = await said(ALICE, '/create SOLUSDT 170 200 10 1000')((m) => m.reply_markup !== undefined);
    expect(body(prompt)).toContain('Create a SOLUSDT grid?');
    expect(body(prompt)).toContain('10 arithmetic grids from 170 to 200, 1000 invested');
    expect(body(prompt)).toMatch(/spacing 3 · quantity per grid [\d.]+/);
    expect(body(prompt)).toMatch(/profit per grid after fees: [\d.]+ to [\d.]+/);
    const [{ n: before }] = (await app.rt.ds.query(
      `SELECT count(*)::int AS n FROM grid WHERE symbol = 'SOLUSDT'`,
    )) as [{ n: number }];
    expect(before).toBe(0);
    const seenBefore = seen();
    tg.userPresses(
      ALICE,
      ALICE.id,
      prompt.message_id,
      prompt.reply_markup!.inline_keyboard![0]![0]!.callback_data!,
    );
    const done = await tg.waitForMessage((m) => fresh(seenBefore)(m) && body(m).includes('created'));
    expect(body(done)).toMatch(/^✅ Grid g\d+ created\ng\d+ SOLUSDT · running · paper/);
    await settle(app.rt);
    const [{ n }] = (await app.rt.ds.query(
      `SELECT count(*)::int AS n FROM grid WHERE symbol = 'SOLUSDT'`,
    )) as [{ n: number }];
    expect(n).toBe(1);
  });

  it('/grid draws the ladder; /trades pages with buttons; the other read commands answer', async () => {
    const grid = await said(ALICE, '/grid g1')((m) => m.method === 'sendPhoto');
    expect(await inspectPng(grid.photo!.bytes)).toMatchObject({ width: 1000, height: 1400 });
    expect(grid.caption).toContain('g1 BTCUSDT');
    const page = await said(ALICE, '/trades 1')((m) => body(m).startsWith('Trades 1–1'));
    const older = page.reply_markup!.inline_keyboard![0]!.find((b) => b.text === 'Older ›')!;
    tg.userPresses(ALICE, ALICE.id, page.message_id, older.callback_data!);
    const edited = await tg.waitForMessage(
      (m) => m.message_id === page.message_id && body(m).startsWith('Trades 2–2'),
    );
    expect(edited.reply_markup!.inline_keyboard![0]!.map((b) => b.text)).toEqual(['‹ Newer', 'Older ›']);
    // Protects: a stranger paging someone's list in a group is answered alone; the page stays as it is.
    const groupPage = await said(ALICE, '/trades 1', OPS_GROUP.id)((m) => body(m).startsWith('Trades 1–1'));
    const groupOlder = groupPage.reply_markup!.inline_keyboard![0]!.find((b) => b.text === 'Older ›')!;
    const answers = tg.callbackAnswers().length;
    tg.userPresses(MALLORY, OPS_GROUP.id, groupPage.message_id, groupOlder.callback_data!);
    await expect.poll(() => tg.callbackAnswers().length).toBe(answers + 1);
    expect(tg.callbackAnswers().at(-1)).toMatchObject({ show_alert: true });
    await said(ALICE, '/version', OPS_GROUP.id)((m) => body(m).startsWith('GridOps'));
    const unchanged = tg
      .sent()
      .find((m) => m.chat.id === OPS_GROUP.id && m.message_id === groupPage.message_id)!;
    expect(unchanged).toMatchObject({ text: groupPage.text, reply_markup: groupPage.reply_markup });
    expect(body(await said(ALICE, '/balance')((m) => body(m).startsWith('Balances')))).toMatch(/USDT: \d/);
    // The BTC grid was stopped by the kill; the ETH one runs.
    expect(
      body(await said(ALICE, '/orders ETHUSDT')((m) => body(m).includes('open orders on ETHUSDT'))),
    ).toMatch(/g\d+ (BUY |SELL) [\d.]+ @ \d+/);
    const market = await said(ALICE, '/market')((m) => body(m).startsWith('Market'));
    expect(body(market)).toMatch(/top gainers: .+\ntop losers: .+\ntrending: .+/);
    const daily = await said(ALICE, '/daily')((m) => body(m).includes('Daily report'));
    expect(daily.method).toBe('sendPhoto');
    // A day of stored 1-minute candles swinging between 96,000 and 104,000: the backtest trades them.
    await app.rt.ds.query(
      `INSERT INTO ohlcv (symbol, interval, open_time, open, high, low, close, volume)
       SELECT 'BTCUSDT', '1', date_trunc('minute', now()) - (i || ' minutes')::interval,
              round((100000 + 4000 * sin(i / 60.0))::numeric, 2), round((100050 + 4000 * sin(i / 60.0))::numeric, 2),
              round((99950 + 4000 * sin(i / 60.0))::numeric, 2), round((100000 + 4000 * sin((i - 1) / 60.0))::numeric, 2), 1
         FROM generate_series(2, 1380) AS i
       ON CONFLICT DO NOTHING`,
    );
    const bt = await said(ALICE, '/backtest BTCUSDT 90000 110000 10 1')((m) => body(m).includes('acktest'));
    expect(bt.method).toBe('sendPhoto');
    expect(body(bt)).toMatch(/^Backtest BTCUSDT, 1 days: net -?\d/);
    expect(body(bt)).toMatch(/\d+ buys, \d+ sells/);
    expect(body(await said(ALICE, '/version')((m) => body(m).startsWith('GridOps')))).toContain('mode paper');
    expect(body(await said(BOB, '/help')((m) => body(m).startsWith('GridOps commands')))).not.toContain(
      '/kill',
    );
    // /stop all asks first, then stops every grid that is not stopped.
    const stop = await said(ALICE, '/stop all')((m) => m.reply_markup !== undefined);
    expect(body(stop)).toContain('Stop every grid?');
    const b = seen();
    tg.userPresses(
      ALICE,
      ALICE.id,
      stop.message_id,
      stop.reply_markup!.inline_keyboard![0]![0]!.callback_data!,
    );
    const stopped = await tg.waitForMessage((m) => fresh(b)(m) && /grids? stopped/.test(body(m)));
    expect(body(stopped)).toMatch(/^✅ 2 grids stopped\ng\d+ ETHUSDT: stopped\ng\d+ SOLUSDT: stopped$/);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * Webhook mode: telegraf registers the https URL with its secret and serves updates on a local port (TLS ends at the
 * reverse proxy in front of it). An update without the secret header is refused; with it, the command runs.
 */
describe('Telegram webhook mode', () => {
  let tg: FakeTelegram;
  let db: TestDatabase;
  let app: TestApp;
  let port: number;

  beforeAll(async () => {
    tg = await startFakeTelegram({ repeatedPollFloorSeconds: 0 });
    db = await createTestDatabase();
    port = await freePort();
    app = await startTestApp({
      databaseUrl: db.url,
      prefix: testPrefix(),
      worker: false,
      bot: true,
      env: {
        TELEGRAM_BOT_TOKEN: tg.token,
        TELEGRAM_API_ROOT: tg.apiRoot,
        TELEGRAM_ALLOWED_USERS: String(ALICE.id),
        TELEGRAM_CHAT_GAP_MS: '0',
        TELEGRAM_WEBHOOK_URL: `https://127.0.0.1:${port}/tg-hook`,
        TELEGRAM_WEBHOOK_SECRET: 'hook-secret_1-for-tests',
        TELEGRAM_WEBHOOK_PORT: String(port),
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await tg?.close();
  });

  // Protects: telegraf's webhook server listens on loopback only (TELEGRAM_WEBHOOK_HOST, default 127.0.0.1): the
  // reverse proxy in front is the only way in.
  it('serves the webhook on loopback only', async () => {
    const server = (app.bot!.chat.telegram!.bot as unknown as { webhookServer?: Server }).webhookServer!;
    await expect.poll(() => (server.address() as AddressInfo | null)?.address).toBe('127.0.0.1');
    expect((server.address() as AddressInfo).port).toBe(port);
  });

  it('registers the webhook with its secret and checks the header on every update', async () => {
    expect(tg.webhook()).toEqual({
      url: `https://127.0.0.1:${port}/tg-hook`,
      secretToken: 'hook-secret_1-for-tests',
    });
    tg.registerChat({ id: ALICE.id, type: 'private', first_name: ALICE.first_name });
    const update = {
      update_id: 1,
      message: {
        message_id: 1,
        from: { ...ALICE, is_bot: false },
        chat: { id: ALICE.id, type: 'private', first_name: ALICE.first_name },
        date: Math.floor(Date.now() / 1000),
        text: '/version',
        entities: [{ type: 'bot_command', offset: 0, length: 8 }],
      },
    };
    const post = (headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${port}/tg-hook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(update),
      });
    expect((await post({})).status).toBe(403);
    expect((await post({ 'x-telegram-bot-api-secret-token': 'wrong' })).status).toBe(403);
    expect(tg.sent()).toEqual([]);
    expect((await post({ 'x-telegram-bot-api-secret-token': 'hook-secret_1-for-tests' })).status).toBe(200);
    const reply = await tg.waitForMessage((m) => m.chat.id === ALICE.id);
    expect(reply.text).toMatch(/^GridOps \S+\nmode paper/);
  });
});

/** Alerts to a forum topic of a group: each message carries the topic's thread id. */
describe('Telegram alerts to a forum topic', () => {
  let tg: FakeTelegram;
  let db: TestDatabase;
  let app: TestApp;
  const FORUM = { id: -1009876543, type: 'supergroup', title: 'desk', is_forum: true } as const;

  beforeAll(async () => {
    tg = await startFakeTelegram({ repeatedPollFloorSeconds: 0 });
    tg.registerChat(FORUM);
    db = await createTestDatabase();
    app = await startTestApp({
      databaseUrl: db.url,
      prefix: testPrefix(),
      bot: true,
      env: {
        TELEGRAM_BOT_TOKEN: tg.token,
        TELEGRAM_API_ROOT: tg.apiRoot,
        TELEGRAM_ALLOWED_USERS: String(ALICE.id),
        TELEGRAM_ALERT_CHAT_ID: String(FORUM.id),
        TELEGRAM_ALERT_TOPIC_ID: '7',
        TELEGRAM_CHAT_GAP_MS: '0',
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await tg?.close();
  });

  it('a grid started is said in the topic, and not in the operator’s private chat', async () => {
    await startBtcGrid(app.rt);
    const m = await tg.waitForMessage(
      (x) => x.chat.id === FORUM.id && (x.text ?? '').includes('grid g1 started'),
    );
    expect(m.message_thread_id).toBe(7);
    expect(tg.sent().filter((x) => x.chat.id === ALICE.id)).toEqual([]);
  });
});
