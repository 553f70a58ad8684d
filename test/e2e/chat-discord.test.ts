import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { startFakeDiscord } from '../fakes/discord/server.js';
import type { FakeDiscord, FakeDiscordUser, FakeMessage } from '../fakes/discord/types.js';
import { movePrice, settle, startBtcGrid, startTestApp, type TestApp } from '../support/app.js';
import { inspectPng } from '../support/png.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'setup', via: 'cli', role: 'operator' };
const ALICE: FakeDiscordUser = { id: '300000000000000001', username: 'alice' }; // operator
const BOB: FakeDiscordUser = { id: '300000000000000002', username: 'bob' }; // read-only
const MALLORY: FakeDiscordUser = { id: '300000000000000666', username: 'mallory' };

/** The bot role against a fake Discord (REST and gateway), through discord.js. */
describe('Discord chat-ops', () => {
  let dc: FakeDiscord;
  let db: TestDatabase;
  let app: TestApp;

  const embed = (m: FakeMessage) => m.embeds[0] ?? {};

  beforeAll(async () => {
    dc = await startFakeDiscord({ rateLimit: { limit: 50, windowMs: 1000 } });
    db = await createTestDatabase();
    app = await startTestApp({
      databaseUrl: db.url,
      prefix: testPrefix(),
      bot: true,
      env: {
        DISCORD_BOT_TOKEN: dc.token,
        DISCORD_APPLICATION_ID: dc.applicationId,
        DISCORD_GUILD_ID: dc.guildId,
        DISCORD_ALERT_CHANNEL_ID: dc.alertChannelId,
        DISCORD_API_ROOT: dc.apiRoot,
        DISCORD_ALLOWED_USERS: ALICE.id,
        DISCORD_READONLY_USERS: BOB.id,
        NOTIFY_DIGEST_MS: '300',
      },
    });
    await startBtcGrid(app.rt);
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await dc?.close();
  });

  it('registers the slash commands to the guild, with options', () => {
    const commands = dc.registeredCommands();
    expect(commands.every((c) => c.guild_id === dc.guildId)).toBe(true);
    const create = commands.find((c) => c.name === 'create');
    expect(create?.options?.map((o) => `${o.name}:${o.type}${o.required ? '!' : ''}`)).toEqual([
      'symbol:3!',
      'lower:3!',
      'upper:3!',
      'grids:4!',
      'investment:3!',
      'mode:3',
    ]);
  });

  it('/status answers with an embed; autocomplete offers symbols', async () => {
    const m = await dc.slash(ALICE, 'status').final();
    expect(embed(m).title).toBe('1 active grid · paper');
    expect(embed(m).description).toContain('g1 BTCUSDT · running · paper');
    expect(await dc.autocomplete(ALICE, 'grid', 'symbol', 'bt')).toEqual([
      { name: 'BTCUSDT', value: 'BTCUSDT' },
    ]);
  });

  it('refuses an unknown user, and audits it', async () => {
    const m = await dc.slash(MALLORY, 'balance').final();
    expect(embed(m).title).toBe('You are not allowed to use this bot.');
    expect(embed(m).color).toBe(0xef4444);
    const rows = (await app.rt.ds.query(`SELECT role, outcome FROM audit_log WHERE actor = $1`, [
      MALLORY.id,
    ])) as {
      role: string;
      outcome: string;
    }[];
    expect(rows).toEqual([{ role: 'none', outcome: 'refused: unauthorized' }]);
  });

  it('/kill: a button only the asker can press; the kill alert goes to the alert channel', async () => {
    const prompt = await dc.slash(ALICE, 'kill').final();
    expect(embed(prompt).title).toBe('Pull the kill switch?');
    const [confirm] = (prompt.components[0]?.components ?? []).map((c) => c.custom_id!);
    const refused = await dc.press(BOB, prompt, confirm!).final();
    expect(embed(refused).title).toBe('Only the user who asked can confirm this.');
    expect(refused.flags & 64).toBe(64); // said to Bob only
    expect(await app.rt.risk.isKilled()).toBe(false);
    const done = await dc.press(ALICE, prompt, confirm!).final();
    expect(embed(done).title).toMatch(/^Kill switch ON \(incident #\d+\)$/);
    expect(done.components).toEqual([]);
    const alert = await dc.waitForChannelMessage(
      (m) => m.channel_id === dc.alertChannelId && String(embed(m).title).startsWith('KILL SWITCH ON'),
    );
    expect(embed(alert).color).toBe(0xdc2626);
    await app.rt.risk.settled();
    const reset = await dc.slash(ALICE, 'reset').final();
    const [ok] = (reset.components[0]?.components ?? []).map((c) => c.custom_id!);
    expect(embed(await dc.press(ALICE, reset, ok!).final()).title).toBe('Kill switch off');
  });

  it('/pnl attaches the chart (deferred when slow); fills reach the alert channel', async () => {
    await app.rt.monitor.evaluate();
    const m = await dc.slash(ALICE, 'pnl', { period: 'day' }).final();
    const [file] = m.attachments;
    expect(file?.filename).toBe('pnl-day.png');
    expect(await inspectPng(file!.data)).toMatchObject({ width: 1000, height: 560 });
    // Discord rewrites attachment://pnl-day.png to the attachment's own URL.
    expect(embed(m).image?.url).toMatch(/\/pnl-day\.png$/);
    const g = await app.rt.grids.create(OPERATOR, {
      symbol: 'BTCUSDT',
      lower: '90000',
      upper: '110000',
      grids: 10,
      investment: '10000',
    });
    if (!g.ok) throw new Error(g.error.message);
    await settle(app.rt);
    await movePrice(app.rt, 'BTCUSDT', '97500'); // the buy at 98,000 fills
    // Alone, or in a digest with the start buy when both land in one window.
    const text = (x: FakeMessage) => `${embed(x).title ?? ''}\n${embed(x).description ?? ''}`;
    const fill = await dc.waitForChannelMessage(
      (x) => x.channel_id === dc.alertChannelId && /BTCUSDT buy [\d.]+ @ 98000/.test(text(x)),
      10_000,
    );
    expect(text(fill)).toMatch(/BTCUSDT buy [\d.]+ @ 98000(\n| · )fee [\d.]+ USDT/);
  });

  it('a command that takes longer than the deferral threshold is acknowledged first, then answered by an edit', async () => {
    await app.bot!.stop();
    const slow = await startTestApp({
      databaseUrl: db.url,
      prefix: testPrefix(),
      worker: false,
      bot: true,
      env: {
        DISCORD_BOT_TOKEN: dc.token,
        DISCORD_APPLICATION_ID: dc.applicationId,
        DISCORD_GUILD_ID: dc.guildId,
        DISCORD_API_ROOT: dc.apiRoot,
        DISCORD_ALLOWED_USERS: ALICE.id,
        DISCORD_DEFER_AFTER_MS: '0',
      },
    });
    try {
      const i = dc.slash(ALICE, 'status');
      expect((await i.response()).type).toBe(5); // DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
      const m = await i.final();
      expect(embed(m).title).toMatch(/active grids? · paper/);
    } finally {
      await slow.close();
    }
  });
});
