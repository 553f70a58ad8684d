import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCanvas } from '@napi-rs/canvas';
import { Telegraf, TelegramError } from 'telegraf';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeTelegram, type FakeTelegramUser, startFakeTelegram } from '../../fakes/telegram/server.js';
import { inspectPng } from '../../support/png.js';

const ANN: FakeTelegramUser = { id: 424242, first_name: 'Ann', username: 'ann_ops' };
const BOB: FakeTelegramUser = { id: 515151, first_name: 'Bob' };

interface Envelope {
  ok: boolean;
  result?: unknown;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

type Json = Record<string, unknown>;

/** One Bot API call without telegraf, to pin the wire format itself. */
async function raw(
  fake: FakeTelegram,
  method: string,
  params: Json = {},
  opts: { token?: string; via?: 'json' | 'get' | 'form' } = {},
): Promise<{ status: number; body: Envelope }> {
  const url = `${fake.apiRoot}bot${opts.token ?? fake.token}/${method}`;
  const strings = Object.fromEntries(
    Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
  const via = opts.via ?? 'json';
  const res =
    via === 'get'
      ? await fetch(`${url}?${new URLSearchParams(strings)}`)
      : await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': via === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
          },
          body: via === 'json' ? JSON.stringify(params) : new URLSearchParams(strings).toString(),
        });
  return { status: res.status, body: (await res.json()) as Envelope };
}

function badRequest(description: string) {
  return { status: 400, body: { ok: false, error_code: 400, description: `Bad Request: ${description}` } };
}

function png(width: number, height: number): Buffer {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#1f77b4';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#ff7f0e';
  ctx.fillRect(0, 0, Math.ceil(width / 2), Math.ceil(height / 2));
  return canvas.toBuffer('image/png');
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('fake Telegram: HTTP surface', () => {
  let fake: FakeTelegram;
  beforeEach(async () => {
    fake = await startFakeTelegram();
  });
  afterEach(() => fake.close());

  it('answers an unknown token 401 and an unknown method 404 in the Bot API envelope', async () => {
    expect(await raw(fake, 'getMe', {}, { token: '987654321:wrong' })).toEqual({
      status: 401,
      body: { ok: false, error_code: 401, description: 'Unauthorized' },
    });
    expect(await raw(fake, 'sendTelepathy')).toEqual({
      status: 404,
      body: { ok: false, error_code: 404, description: 'Not Found' },
    });
    const root = await fetch(fake.apiRoot);
    expect(root.status).toBe(404);
  });

  it('matches method names case-insensitively and reads GET query, urlencoded and JSON parameters', async () => {
    const me = await raw(fake, 'GETME', {}, { via: 'get' });
    expect(me.status).toBe(200);
    expect(me.body.result).toMatchObject({ id: 123456789, is_bot: true, username: 'gridops_test_bot' });

    fake.userSays(ANN, ANN.id, 'hi');
    const viaGet = await raw(fake, 'sendmessage', { chat_id: ANN.id, text: 'by query' }, { via: 'get' });
    const viaForm = await raw(fake, 'sendMessage', { chat_id: ANN.id, text: 'by form' }, { via: 'form' });
    const viaJson = await raw(fake, 'SendMessage', { chat_id: ANN.id, text: 'by json' });
    expect([viaGet.status, viaForm.status, viaJson.status]).toEqual([200, 200, 200]);
    expect(fake.sent().map((m) => m.text)).toEqual(['by query', 'by form', 'by json']);
    expect(fake.calls('sendMessage')).toBe(3);
    expect(fake.calls()).toMatchObject({ getMe: 1, sendMessage: 3 });
  });

  it('stores bot messages with per-chat ids, dates in seconds and the thread id', async () => {
    const before = Math.floor(Date.now() / 1000);
    const forum = { id: -1001234567890, type: 'supergroup', title: 'Ops', is_forum: true } as const;
    fake.registerChat(forum);
    const res = await raw(fake, 'sendMessage', {
      chat_id: forum.id,
      text: 'grid started',
      message_thread_id: 77,
    });
    expect(res.status).toBe(200);
    const message = res.body.result as Json;
    expect(message).toMatchObject({
      message_id: 1,
      chat: { id: forum.id, type: 'supergroup', title: 'Ops', is_forum: true },
      from: { id: 123456789, is_bot: true },
      message_thread_id: 77,
      is_topic_message: true,
      text: 'grid started',
    });
    const date = message.date as number;
    expect(date).toBeGreaterThanOrEqual(before);
    expect(date).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    const [stored] = fake.sent();
    expect(stored).toMatchObject({ message_id: 1, date, message_thread_id: 77, method: 'sendMessage' });
  });

  it('validates sendMessage like Telegram: empty, too long, chat not found, callback_data size', async () => {
    fake.userSays(ANN, ANN.id, 'hello');
    expect(await raw(fake, 'sendMessage', { chat_id: ANN.id, text: '' })).toEqual(
      badRequest('message text is empty'),
    );
    expect(await raw(fake, 'sendMessage', { chat_id: ANN.id, text: '   \n ' })).toEqual(
      badRequest('message text is empty'),
    );
    expect(await raw(fake, 'sendMessage', { chat_id: ANN.id, text: 'x'.repeat(4097) })).toEqual(
      badRequest('message is too long'),
    );
    expect((await raw(fake, 'sendMessage', { chat_id: ANN.id, text: '€'.repeat(4096) })).status).toBe(200);
    expect(await raw(fake, 'sendMessage', { chat_id: BOB.id, text: 'who?' })).toEqual(
      badRequest('chat not found'),
    );

    const keyboard = (data: string) => ({ inline_keyboard: [[{ text: 'Go', callback_data: data }]] });
    expect(
      await raw(fake, 'sendMessage', { chat_id: ANN.id, text: 'k', reply_markup: keyboard('x'.repeat(65)) }),
    ).toEqual(badRequest('BUTTON_DATA_INVALID'));
    expect(
      await raw(fake, 'sendMessage', { chat_id: ANN.id, text: 'k', reply_markup: keyboard('') }),
    ).toEqual(badRequest('BUTTON_DATA_INVALID'));
    // 64 bytes, counted in UTF-8: 16 four-byte emoji fit, 17 do not.
    expect(
      (
        await raw(fake, 'sendMessage', {
          chat_id: ANN.id,
          text: 'k',
          reply_markup: keyboard('🚀'.repeat(16)),
        })
      ).status,
    ).toBe(200);
    expect(
      await raw(fake, 'sendMessage', { chat_id: ANN.id, text: 'k', reply_markup: keyboard('🚀'.repeat(17)) }),
    ).toEqual(badRequest('BUTTON_DATA_INVALID'));
    expect(fake.sent()).toHaveLength(2);
  });

  it('parses parse_mode as Telegram does and rejects what Telegram rejects', async () => {
    fake.userSays(ANN, ANN.id, 'hello');
    const html = await raw(fake, 'sendMessage', {
      chat_id: ANN.id,
      text: '<b>BTC</b> grid &amp; <a href="https://example.com/g/1">details</a>',
      parse_mode: 'HTML',
    });
    expect(html.body.result).toMatchObject({
      text: 'BTC grid & details',
      entities: [
        { type: 'bold', offset: 0, length: 3 },
        { type: 'text_link', offset: 11, length: 7, url: 'https://example.com/g/1' },
      ],
    });
    expect(
      await raw(fake, 'sendMessage', { chat_id: ANN.id, text: 'Version 1.0', parse_mode: 'MarkdownV2' }),
    ).toEqual(
      badRequest(
        "can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'",
      ),
    );
    expect(await raw(fake, 'sendMessage', { chat_id: ANN.id, text: 'a <br> b', parse_mode: 'HTML' })).toEqual(
      badRequest(`can't parse entities: Unsupported start tag "br" at byte offset 2`),
    );
    expect(
      await raw(fake, 'sendMessage', { chat_id: ANN.id, text: '*unclosed', parse_mode: 'Markdown' }),
    ).toEqual(badRequest("can't parse entities: Can't find end of the entity starting at byte offset 0"));
    const v2 = await raw(fake, 'sendMessage', {
      chat_id: ANN.id,
      text: '*P&L* \\+1\\.5% `BTC_USDT`',
      parse_mode: 'MarkdownV2',
    });
    expect(v2.body.result).toMatchObject({
      text: 'P&L +1.5% BTC_USDT',
      entities: [
        { type: 'bold', offset: 0, length: 3 },
        { type: 'code', offset: 10, length: 8 },
      ],
    });
  });

  it('answers an unchanged editMessageText with "message is not modified", edits otherwise', async () => {
    fake.userSays(ANN, ANN.id, 'hello');
    const markup = { inline_keyboard: [[{ text: 'Stop', callback_data: 'stop:1' }]] };
    const sent = await raw(fake, 'sendMessage', {
      chat_id: ANN.id,
      text: 'Grid 1: running',
      reply_markup: markup,
    });
    const id = (sent.body.result as Json).message_id;
    expect(
      await raw(fake, 'editMessageText', {
        chat_id: ANN.id,
        message_id: id,
        text: 'Grid 1: running',
        reply_markup: markup,
      }),
    ).toEqual(
      badRequest(
        'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      ),
    );
    expect(
      await raw(fake, 'editMessageReplyMarkup', { chat_id: ANN.id, message_id: id, reply_markup: markup }),
    ).toMatchObject({ status: 400 });
    // Same text without reply_markup removes the keyboard, so it is a change.
    const edited = await raw(fake, 'editMessageText', {
      chat_id: ANN.id,
      message_id: id,
      text: 'Grid 1: running',
    });
    expect(edited.status).toBe(200);
    expect(edited.body.result).not.toHaveProperty('reply_markup');
    expect(edited.body.result).toHaveProperty('edit_date');
    expect(await raw(fake, 'editMessageText', { chat_id: ANN.id, message_id: 999, text: 'x' })).toEqual(
      badRequest('message to edit not found'),
    );
    expect(fake.sent()[0]).toMatchObject({ text: 'Grid 1: running', deleted: false });
    expect(fake.sent()[0]?.reply_markup).toBeUndefined();

    expect((await raw(fake, 'deleteMessage', { chat_id: ANN.id, message_id: id })).body).toEqual({
      ok: true,
      result: true,
    });
    expect(await raw(fake, 'deleteMessage', { chat_id: ANN.id, message_id: id })).toEqual(
      badRequest('message to delete not found'),
    );
    expect(fake.sent()[0]?.deleted).toBe(true);
  });

  it('validates setMyCommands as TDLib and Telegram do and serves getMyCommands', async () => {
    const set = (commands: unknown) => raw(fake, 'setMyCommands', { commands });
    expect(await set([{ command: 'Status', description: 'Show grids' }])).toEqual(
      badRequest('BOT_COMMAND_INVALID'),
    );
    expect(await set([{ command: 'stop-all', description: 'Stop' }])).toEqual(
      badRequest('BOT_COMMAND_INVALID'),
    );
    expect(await set([{ command: 'x'.repeat(33), description: 'd' }])).toEqual(
      badRequest('command length must not exceed 32'),
    );
    expect(await set([{ command: 'status', description: '  ' }])).toEqual(
      badRequest('command description must be non-empty'),
    );
    expect(await set([{ command: 'status', description: 'd'.repeat(257) }])).toEqual(
      badRequest('command description length must not exceed 256'),
    );
    const many = Array.from({ length: 101 }, (_, i) => ({ command: `c${i}`, description: 'd' }));
    expect(await set(many)).toEqual(badRequest('BOT_COMMANDS_TOO_MUCH'));
    expect(fake.commands()).toEqual([]);

    const good = [
      { command: 'status', description: 'Show grids' },
      { command: '/stop_all', description: 'Stop every grid' },
    ];
    expect((await set(good)).body).toEqual({ ok: true, result: true });
    const expected = [
      { command: 'status', description: 'Show grids' },
      { command: 'stop_all', description: 'Stop every grid' },
    ];
    expect(fake.commands()).toEqual(expected);
    expect((await raw(fake, 'getMyCommands')).body.result).toEqual(expected);
    expect((await raw(fake, 'getMyCommands', { scope: { type: 'all_group_chats' } })).body.result).toEqual(
      [],
    );
  });

  it('confirms updates by offset, honours limit and negative offsets', async () => {
    for (const text of ['one', 'two', 'three']) fake.userSays(ANN, ANN.id, text);
    const first = (await raw(fake, 'getUpdates', { limit: 2 })).body.result as Json[];
    expect(first.map((u) => (u.message as Json).text)).toEqual(['one', 'two']);
    const again = (await raw(fake, 'getUpdates', { limit: 2 })).body.result as Json[];
    expect(again.map((u) => u.update_id)).toEqual(first.map((u) => u.update_id));

    const lastId = first[1]!.update_id as number;
    const rest = (await raw(fake, 'getUpdates', { offset: lastId + 1 })).body.result as Json[];
    expect(rest.map((u) => (u.message as Json).text)).toEqual(['three']);
    expect(fake.pendingUpdates()).toBe(1);

    fake.userSays(ANN, ANN.id, 'four');
    const tail = (await raw(fake, 'getUpdates', { offset: -1 })).body.result as Json[];
    expect(tail.map((u) => (u.message as Json).text)).toEqual(['four']);
    expect(fake.pendingUpdates()).toBe(1);
  });

  it('holds a long poll until the timeout passes (timeout 1 returns [] after about a second)', async () => {
    const started = performance.now();
    const res = await raw(fake, 'getUpdates', { timeout: 1 });
    const elapsed = performance.now() - started;
    expect(res.body).toEqual({ ok: true, result: [] });
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(2500);
  });

  it('releases a long poll as soon as an update arrives', async () => {
    const started = performance.now();
    const poll = raw(fake, 'getUpdates', { timeout: 10 });
    await until(() => fake.calls('getUpdates') === 1);
    await new Promise((r) => setTimeout(r, 50));
    fake.userSays(ANN, ANN.id, '/status');
    const res = await poll;
    expect(performance.now() - started).toBeLessThan(1000);
    const [update] = res.body.result as Json[];
    expect(update?.message).toMatchObject({
      text: '/status',
      from: { id: ANN.id, is_bot: false, first_name: 'Ann', username: 'ann_ops' },
      chat: { id: ANN.id, type: 'private' },
      entities: [{ type: 'bot_command', offset: 0, length: 7 }],
    });
  });

  it('lets the newer of two long polls win: the waiting one gets 409', async () => {
    const older = raw(fake, 'getUpdates', { timeout: 10 });
    await until(() => fake.calls('getUpdates') === 1);
    const newer = raw(fake, 'getUpdates', { timeout: 10, offset: 1 });
    expect(await older).toEqual({
      status: 409,
      body: {
        ok: false,
        error_code: 409,
        description:
          'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
      },
    });
    fake.userSays(ANN, ANN.id, 'wake');
    expect(((await newer).body.result as Json[]).length).toBe(1);
  });

  it('answers pending long polls with [] on close, promptly', async () => {
    const poll = raw(fake, 'getUpdates', { timeout: 50 });
    await until(() => fake.calls('getUpdates') === 1);
    const started = performance.now();
    await fake.close();
    expect((await poll).body).toEqual({ ok: true, result: [] });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('injects flood control on send methods and generic failures', async () => {
    fake.userSays(ANN, ANN.id, 'hi');
    fake.floodNext(2, 7);
    const flooded = await raw(fake, 'sendMessage', { chat_id: ANN.id, text: 'a' });
    expect(flooded).toEqual({
      status: 429,
      body: {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 7',
        parameters: { retry_after: 7 },
      },
    });
    expect((await raw(fake, 'sendChatAction', { chat_id: ANN.id, action: 'typing' })).status).toBe(200);
    expect((await raw(fake, 'sendMessage', { chat_id: ANN.id, text: 'b' })).status).toBe(429);
    expect((await raw(fake, 'sendMessage', { chat_id: ANN.id, text: 'c' })).status).toBe(200);
    expect(fake.flooded()).toBe(2);
    expect(fake.calls('sendMessage')).toBe(3);
    expect(fake.sent().map((m) => m.text)).toEqual(['c']);

    fake.failNext(502, 'Bad Gateway', { method: 'getMe' });
    expect((await raw(fake, 'sendMessage', { chat_id: ANN.id, text: 'd' })).status).toBe(200);
    expect(await raw(fake, 'getMe')).toEqual({
      status: 502,
      body: { ok: false, error_code: 502, description: 'Bad Gateway' },
    });
  });
});

describe('fake Telegram: driven by telegraf 4.16', () => {
  let fake: FakeTelegram;
  const bots: Telegraf[] = [];
  const launches: Promise<void>[] = [];
  const handlerErrors: unknown[] = [];

  function newBot(f: FakeTelegram = fake): Telegraf {
    const bot = new Telegraf(f.token, { telegram: { apiRoot: f.apiRoot } });
    bot.catch((err) => {
      handlerErrors.push(err);
    });
    bots.push(bot);
    return bot;
  }

  /** bot.launch() settles only when polling stops, so it is kept, never awaited here. */
  function launch(bot: Telegraf): Promise<void> {
    const p = bot.launch();
    launches.push(p.catch(() => undefined));
    return p;
  }

  beforeEach(async () => {
    fake = await startFakeTelegram();
    handlerErrors.length = 0;
  });
  afterEach(async () => {
    for (const bot of bots.splice(0)) {
      try {
        bot.stop('test over');
      } catch {
        // Already stopped by the test, or stopped itself on a 409.
      }
    }
    await fake.close();
    await Promise.all(launches.splice(0));
    expect(handlerErrors).toEqual([]);
  });

  it('runs a command and an inline-keyboard action through long polling', async () => {
    const bot = newBot();
    const stopped: string[] = [];
    bot.command('status', (ctx) =>
      ctx.reply('Grid BTCUSDT: running', {
        reply_markup: { inline_keyboard: [[{ text: 'Stop', callback_data: 'stop:BTCUSDT' }]] },
      }),
    );
    bot.action(/^stop:(.+)$/, async (ctx) => {
      stopped.push(ctx.match[1] ?? '');
      await ctx.answerCbQuery('Stopping…');
      await ctx.editMessageText('Grid BTCUSDT: stopped');
    });
    void launch(bot);

    fake.userSays(ANN, ANN.id, '/status');
    const reply = await fake.waitForMessage((m) => m.text === 'Grid BTCUSDT: running');
    expect(reply.chat.id).toBe(ANN.id);
    expect(reply.reply_markup?.inline_keyboard?.[0]?.[0]?.callback_data).toBe('stop:BTCUSDT');

    const queryId = fake.userPresses(ANN, ANN.id, reply.message_id, 'stop:BTCUSDT');
    const edited = await fake.waitForMessage((m) => m.text === 'Grid BTCUSDT: stopped');
    expect(edited.message_id).toBe(reply.message_id);
    expect(edited.reply_markup).toBeUndefined();
    expect(stopped).toEqual(['BTCUSDT']);
    expect(fake.callbackAnswers()).toEqual([
      { callback_query_id: queryId, text: 'Stopping…', show_alert: false, viaWebhookReply: false },
    ]);
    expect(() => fake.userPresses(ANN, ANN.id, reply.message_id, 'stop:ETHUSDT')).toThrow(/no button/);
    expect(fake.calls()).toMatchObject({
      getMe: 1,
      deleteWebhook: 1,
      sendMessage: 1,
      answerCallbackQuery: 1,
    });
  });

  it('answers a command addressed as /status@bot in a group, keeping the forum topic', async () => {
    const bot = newBot();
    bot.command('status', (ctx) => ctx.reply('group status'));
    void launch(bot);
    const forum = { id: -1009876543210, type: 'supergroup', title: 'Desk', is_forum: true } as const;
    fake.userSays(ANN, forum, `/status@${fake.bot.username} now`, { threadId: 12 });
    const reply = await fake.waitForMessage((m) => m.text === 'group status');
    expect(reply).toMatchObject({ chat: { id: forum.id }, message_thread_id: 12 });
  });

  it('uploads a PNG with sendPhoto({ source }) as multipart and keeps the exact bytes', async () => {
    const bot = newBot();
    fake.userSays(ANN, ANN.id, 'hi');
    const chart = png(30, 20);
    const message = await bot.telegram.sendPhoto(
      ANN.id,
      { source: chart },
      {
        caption: '<b>BTC</b> 24 h',
        parse_mode: 'HTML',
        reply_markup: { inline_keyboard: [[{ text: 'Refresh', callback_data: 'chart:refresh' }]] },
      },
    );
    expect(message.caption).toBe('BTC 24 h');
    expect(message.photo.at(-1)).toMatchObject({ width: 30, height: 20, file_size: chart.length });
    const [stored] = fake.sent();
    expect(stored?.method).toBe('sendPhoto');
    expect(stored?.photo?.bytes.equals(chart)).toBe(true);
    expect(await inspectPng(stored!.photo!.bytes)).toMatchObject({ width: 30, height: 20 });
    expect(stored?.reply_markup?.inline_keyboard?.[0]?.[0]?.callback_data).toBe('chart:refresh');

    const long = bot.telegram.sendPhoto(ANN.id, { source: chart }, { caption: 'c'.repeat(1025) });
    await expect(long).rejects.toMatchObject({
      code: 400,
      description: 'Bad Request: message caption is too long',
    });
    const notImage = bot.telegram.sendPhoto(ANN.id, { source: Buffer.from('not an image') });
    await expect(notImage).rejects.toMatchObject({ description: 'Bad Request: IMAGE_PROCESS_FAILED' });

    const doc = await bot.telegram.sendDocument(ANN.id, {
      source: Buffer.from('a,b\n1,2\n'),
      filename: 'grid.csv',
    });
    expect(doc.document).toMatchObject({ file_name: 'grid.csv', mime_type: 'text/csv', file_size: 8 });
    expect(fake.sent()[1]?.document?.bytes.toString()).toBe('a,b\n1,2\n');
  });

  it('surfaces an injected 429 as a TelegramError with retry_after; telegraf does not retry', async () => {
    const bot = newBot();
    let caught: unknown;
    bot.command('report', async (ctx) => {
      try {
        await ctx.telegram.sendMessage(ctx.chat.id, 'report');
      } catch (e) {
        caught = e;
      }
      await ctx.telegram.sendMessage(ctx.chat.id, 'after flood');
    });
    void launch(bot);
    fake.floodNext(1, 3);
    fake.userSays(ANN, ANN.id, '/report');
    await fake.waitForMessage((m) => m.text === 'after flood');
    expect(caught).toBeInstanceOf(TelegramError);
    const err = caught as TelegramError;
    expect(err.code).toBe(429);
    expect(err.description).toBe('Too Many Requests: retry after 3');
    expect(err.parameters?.retry_after).toBe(3);
    expect(fake.flooded()).toBe(1);
    expect(fake.calls('sendMessage')).toBe(2);
    expect(fake.sent().map((m) => m.text)).toEqual(['after flood']);
  });

  it('stops the older of two polling bots with 409, as Telegram does', async () => {
    const older = newBot();
    const olderLaunch = launch(older);
    await until(() => fake.calls('getUpdates') === 1);
    await new Promise((r) => setTimeout(r, 50));
    const newer = newBot();
    newer.command('status', (ctx) => ctx.reply('newer here'));
    void launch(newer);
    await expect(olderLaunch).rejects.toMatchObject({
      code: 409,
      description:
        'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
    });
    fake.userSays(ANN, ANN.id, '/status');
    await fake.waitForMessage((m) => m.text === 'newer here');
  }, 10_000);

  it('bot.stop() ends polling: launch settles after the 3 s anti-spin wait of the final offset sync', async () => {
    const bot = newBot();
    bot.command('status', (ctx) => ctx.reply('ok'));
    const launched = launch(bot);
    fake.userSays(ANN, ANN.id, '/status');
    await fake.waitForMessage((m) => m.text === 'ok');
    await until(() => fake.pendingUpdates() === 0);
    const pollsBefore = fake.calls('getUpdates');
    const started = performance.now();
    bot.stop('done');
    await launched;
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(2500);
    expect(elapsed).toBeLessThan(5000);
    expect(fake.calls('getUpdates')).toBe(pollsBefore + 1);
  });

  it('bot.stop() settles at once without the anti-spin floor, and close() does not hang', async () => {
    const quick = await startFakeTelegram({ repeatedPollFloorSeconds: 0 });
    try {
      const bot = newBot(quick);
      bot.command('status', (ctx) => ctx.reply('ok'));
      const launched = launch(bot);
      quick.userSays(ANN, ANN.id, '/status');
      await quick.waitForMessage((m) => m.text === 'ok');
      const started = performance.now();
      bot.stop('done');
      await launched;
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      const closing = performance.now();
      await quick.close();
      expect(performance.now() - closing).toBeLessThan(1000);
    }
  });

  it('delivers updates to a webhook with the secret header and runs webhookReply bodies', async () => {
    const bot = newBot();
    bot.action('ack', (ctx) => ctx.answerCbQuery('done'));
    bot.command('status', (ctx) => ctx.reply('via webhook'));
    const seenSecrets: (string | undefined)[] = [];
    const callback = bot.webhookCallback('/tg-hook', { secretToken: 'hook_secret-1' });
    const server = createServer((req: IncomingMessage, res) => {
      const header = req.headers['x-telegram-bot-api-secret-token'];
      seenSecrets.push(Array.isArray(header) ? header[0] : header);
      void callback(req, res);
    });
    const port = await listen(server);
    try {
      await bot.telegram.setWebhook(`http://127.0.0.1:${port}/tg-hook`, { secret_token: 'hook_secret-1' });
      expect(fake.webhook()).toEqual({
        url: `http://127.0.0.1:${port}/tg-hook`,
        secretToken: 'hook_secret-1',
      });
      expect(await raw(fake, 'getUpdates')).toEqual({
        status: 409,
        body: {
          ok: false,
          error_code: 409,
          description:
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        },
      });

      fake.userSays(ANN, ANN.id, '/status');
      const reply = await fake.waitForMessage((m) => m.text === 'via webhook');
      const queryId = fake.userPresses(ANN, ANN.id, reply.message_id, 'ack', { allowStale: true });
      await until(() => fake.callbackAnswers().length === 1);
      expect(fake.callbackAnswers()).toEqual([
        { callback_query_id: queryId, text: 'done', show_alert: false, viaWebhookReply: true },
      ]);
      expect(seenSecrets).toEqual(['hook_secret-1', 'hook_secret-1']);
      await until(() => fake.pendingUpdates() === 0);

      // A wrong secret is refused by telegraf (403): the update stays queued and the error is reported.
      await new Promise((r) => setTimeout(r, 1000));
      await bot.telegram.setWebhook(`http://127.0.0.1:${port}/tg-hook`, { secret_token: 'other' });
      fake.userSays(ANN, ANN.id, '/status');
      await until(() => seenSecrets.length >= 3);
      const info = await bot.telegram.getWebhookInfo();
      expect(info).toMatchObject({ pending_update_count: 1 });
      await until(() => seenSecrets.length >= 4);
      expect((await bot.telegram.getWebhookInfo()).last_error_message).toBe(
        'Wrong response from the webhook: 403 Forbidden',
      );
      expect(await bot.telegram.deleteWebhook()).toBe(true);
      expect(fake.webhook()).toBeNull();
      expect(fake.pendingUpdates()).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
