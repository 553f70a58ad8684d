import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { startFakeDiscord } from '../fakes/discord/server.js';
import type { FakeDiscord, FakeDiscordUser, FakeMessage } from '../fakes/discord/types.js';
import { movePrice, settle, startBtcGrid, startTestApp, type TestApp } from '../support/app.js';
import { inspectPng } from '../support/png.js';
import { createTestDatabase, type TestDatabase, testPrefix } from '../support/services.js';

const OPERATOR: Actor = { id: 'setup', via: 'cli', role: 'operator' };
// Alice is a server administrator (sees every command); Bob was granted the app's commands by an admin (Server
// Settings > Integrations); Mallory is another administrator of the server, unknown to the bot; Eve is a plain member.
const ALICE: FakeDiscordUser = { id: '300000000000000001', username: 'alice', admin: true }; // operator
const BOB: FakeDiscordUser = { id: '300000000000000002', username: 'bob' }; // read-only
const MALLORY: FakeDiscordUser = { id: '300000000000000666', username: 'mallory', admin: true };
const EVE: FakeDiscordUser = { id: '300000000000000777', username: 'eve' };
const EPHEMERAL = 64;

/** The bot role against a fake Discord (REST and gateway), through discord.js. */
describe('Discord chat-ops', () => {
  let dc: FakeDiscord;
  let db: TestDatabase;
  let app: TestApp;

  const embed = (m: FakeMessage) => m.embeds[0] ?? {};

  beforeAll(async () => {
    dc = await startFakeDiscord({ rateLimit: { limit: 50, windowMs: 1000 } });
    dc.setCommandPermissions([{ id: BOB.id, type: 2, permission: true }]);
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

  // Protects: the commands are hidden from the server at large (default_member_permissions "0": administrators, and
  // whom an admin grants them to, see them); the allowlist still decides what those who see them may do.
  it('registers the commands for administrators only; others see them once an admin grants them', async () => {
    expect(dc.registeredCommands().every((c) => c.default_member_permissions === '0')).toBe(true);
    expect(() => dc.slash(EVE, 'status')).toThrow(/not available to eve/);
    await expect(dc.autocomplete(EVE, 'grid', 'symbol', 'bt')).rejects.toThrow(/not available to eve/);
    expect(embed(await dc.slash(BOB, 'status').final()).title).toMatch(/active grids? · paper/);
    expect(embed(await dc.slash(MALLORY, 'status').final()).title).toBe(
      'You are not allowed to use this bot.',
    );
  });

  // Protects: autocomplete tells the symbols the bot trades to its users only; anyone else who can see the command
  // (a server admin not on the allowlist) gets no choices.
  it('autocomplete answers allowed users only', async () => {
    expect(await dc.autocomplete(BOB, 'orders', 'symbol', 'eth')).toEqual([
      { name: 'ETHUSDT', value: 'ETHUSDT' },
    ]);
    expect(await dc.autocomplete(MALLORY, 'orders', 'symbol', 'eth')).toEqual([]);
    expect(await dc.autocomplete(MALLORY, 'grid', 'symbol', '')).toEqual([]);
  });

  // Protects: balances, orders, fills and P/L are shown to the asker alone (DISCORD_PUBLIC_REPLIES unset); what says
  // nothing about the account stays public, and a stranger's refusal is theirs alone.
  it('answers showing account figures are ephemeral; the rest are public', async () => {
    for (const [name, options] of [
      ['balance', {}],
      ['orders', { symbol: 'BTCUSDT' }],
      ['trades', {}],
      ['risk', {}],
      ['status', {}],
    ] as const) {
      const m = await dc.slash(BOB, name, options).final();
      expect({ name, flags: m.flags & EPHEMERAL }).toEqual({ name, flags: EPHEMERAL });
      expect(dc.channelMessages(dc.commandChannelId).map((x) => x.id)).not.toContain(m.id);
    }
    const version = await dc.slash(BOB, 'version').final();
    expect(version.flags & EPHEMERAL).toBe(0);
    expect(dc.channelMessages(dc.commandChannelId).map((x) => x.id)).toContain(version.id);
    expect((await dc.slash(MALLORY, 'version').final()).flags & EPHEMERAL).toBe(EPHEMERAL);
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
    const rows = (await app.rt.ds.query(
      `SELECT role, outcome FROM audit_log WHERE actor = $1 AND action = '/balance'`,
      [MALLORY.id],
    )) as {
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
    const stranger = await dc.press(MALLORY, prompt, confirm!).final();
    expect(embed(stranger).title).toBe('You are not allowed to use this bot.');
    expect(stranger.flags & 64).toBe(64);
    // Alice's prompt is as she got it: text and buttons.
    expect(dc.message(prompt.id)).toMatchObject({ embeds: prompt.embeds, components: prompt.components });
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

  // Protects: text from outside (a kill reason, a grid's stop reason, TradingView fields) shows literally: its markdown
  // is escaped, and no message of the bot may ping (allowed_mentions parse [] on every message it sends).
  it('escapes markdown and disables mentions in everything it sends', async () => {
    await app.rt.risk.kill(OPERATOR, `**all** @everyone <@${BOB.id}> # now`);
    try {
      const alert = await dc.waitForChannelMessage(
        (m) => m.channel_id === dc.alertChannelId && String(embed(m).title).includes('@everyone'),
      );
      expect(embed(alert).title).toBe(`KILL SWITCH ON (\\*\\*all\\*\\* @everyone <@${BOB.id}> # now)`);
    } finally {
      // Whatever happened, the next tests trade again.
      await app.rt.risk.settled();
      expect((await app.rt.risk.reset(OPERATOR)).ok).toBe(true);
    }
    const bodies = dc
      .calls()
      .filter((c) => c.status < 300)
      .flatMap((c): unknown[] => {
        const body = c.body as { type?: number; data?: unknown } | null;
        if (c.method === 'POST' && /^\/channels\/\d+\/messages$/.test(c.path)) return [body];
        if (c.path.startsWith('/interactions/'))
          return body?.type === 4 || body?.type === 7 ? [body.data] : [];
        if (c.path.startsWith('/webhooks/') && c.method !== 'GET' && c.method !== 'DELETE') return [body];
        return [];
      });
    expect(bodies.length).toBeGreaterThan(10);
    for (const b of bodies)
      expect((b as { allowed_mentions?: unknown }).allowed_mentions).toEqual({ parse: [] });
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
    expect(text(fill)).toMatch(/BTCUSDT buy [\d.]+ @ 98000(\n| · )fee [\d.]+ (BTC|USDT)/);
  });

  // Protects (the ephemeral part): a deferred answer showing account figures is deferred ephemeral, since Discord
  // fixes the flag when the "thinking…" message is made; a public command's deferral stays public.
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
      const response = await i.response();
      expect(response.type).toBe(5); // DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
      expect(response.message!.flags & EPHEMERAL).toBe(EPHEMERAL);
      const m = await i.final();
      expect(embed(m).title).toMatch(/active grids? · paper/);
      expect(m.flags & EPHEMERAL).toBe(EPHEMERAL);
      const v = dc.slash(ALICE, 'version');
      expect((await v.response()).message!.flags & EPHEMERAL).toBe(0);
      expect((await v.final()).flags & EPHEMERAL).toBe(0);
    } finally {
      await slow.close();
    }
  });

  // Protects: DISCORD_PUBLIC_REPLIES=true makes the figures public; a stranger's press on a public list's buttons is
  // answered to the stranger alone and leaves the list (text and buttons) as it was.
  it('with DISCORD_PUBLIC_REPLIES=true figures are public, and a stranger paging them changes nothing', async () => {
    const open = await startTestApp({
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
        DISCORD_PUBLIC_REPLIES: 'true',
      },
    });
    try {
      expect((await dc.slash(ALICE, 'balance').final()).flags & EPHEMERAL).toBe(0);
      const page = await dc.slash(ALICE, 'trades', { count: 1 }).final();
      expect(page.flags & EPHEMERAL).toBe(0);
      expect(embed(page).title).toBe('Trades 1–1');
      const older = page.components[0]!.components!.find((c) => c.label === 'Older ›')!.custom_id!;
      const refused = await dc.press(MALLORY, page, older).final();
      expect(embed(refused).title).toBe('You are not allowed to use this bot.');
      expect(refused.flags & EPHEMERAL).toBe(EPHEMERAL);
      expect(dc.message(page.id)).toMatchObject({ embeds: page.embeds, components: page.components });
      // Alice pages on as before.
      expect(embed(await dc.press(ALICE, page, older).final()).title).toBe('Trades 2–2');
    } finally {
      await open.close();
    }
  });
});
