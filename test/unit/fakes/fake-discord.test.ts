import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  DiscordAPIError,
  EmbedBuilder,
  Events,
  GatewayIntentBits,
  type Interaction,
  MessageFlags,
  Routes,
  SlashCommandBuilder,
  type TextChannel,
} from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type FakeDiscord, type FakeMessage, startFakeDiscord } from '../../fakes/discord/server.js';

const alice = { id: '712345678901234567', username: 'alice' };
const bob = { id: '712345678901234568', username: 'bob' };
/** A server administrator: sees every command whatever its default_member_permissions. */
const root = { id: '712345678901234569', username: 'root', admin: true };
/** A real 1x1 PNG, as a chart renderer would upload. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

type Frame = { op: number; d: unknown; s: number | null; t: string | null };

/** A raw gateway socket that queues frames and the close code. */
class RawGateway {
  private readonly frames: Frame[] = [];
  private readonly waiters: (() => void)[] = [];
  readonly closed: Promise<number>;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      this.frames.push(JSON.parse(raw.toString()) as Frame);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => socket.on('close', (code) => resolve(code)));
  }

  static async open(url: string): Promise<RawGateway> {
    const socket = new WebSocket(`${url}/?v=10&encoding=json`);
    const g = new RawGateway(socket);
    await once(socket, 'open');
    return g;
  }

  send(frame: unknown): void {
    this.socket.send(JSON.stringify(frame));
  }

  async next(): Promise<Frame> {
    const deadline = Date.now() + 3000;
    while (this.frames.length === 0) {
      if (Date.now() > deadline) throw new Error('no gateway frame within 3 s');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    return this.frames.shift()!;
  }
}

describe('fake Discord: raw REST and gateway', () => {
  let fake: FakeDiscord;

  beforeAll(async () => {
    fake = await startFakeDiscord({ heartbeatIntervalMs: 1000, rateLimit: { limit: 2, windowMs: 60_000 } });
  });
  afterAll(async () => {
    await fake.close();
  });

  const api = (path: string, auth: string | null = `Bot ${fake.token}`) =>
    fetch(`${fake.apiRoot}/v10${path}`, { headers: auth === null ? {} : { Authorization: auth } });

  it('checks the bot token and answers /gateway/bot with the local gateway', async () => {
    const denied = await api('/gateway/bot', 'Bot wrong');
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ message: '401: Unauthorized', code: 0 });
    const res = await api('/gateway/bot');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      url: fake.gatewayUrl,
      shards: 1,
      session_start_limit: { total: 1000, remaining: 999, reset_after: 14400000, max_concurrency: 1 },
    });
    expect((await api('/nope')).status).toBe(404);
  });

  it('reports X-RateLimit-* headers and enforces the bucket with a 429', async () => {
    const first = await api('/users/@me');
    expect(first.headers.get('x-ratelimit-limit')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    expect(Number(first.headers.get('x-ratelimit-reset-after'))).toBeGreaterThan(59);
    expect(first.headers.get('x-ratelimit-bucket')).toMatch(/^[0-9a-f]{32}$/);
    expect(((await first.json()) as { bot: boolean }).bot).toBe(true);
    expect((await api('/users/@me')).headers.get('x-ratelimit-remaining')).toBe('0');
    const limited = await api('/users/@me');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(59);
    expect(limited.headers.get('x-ratelimit-scope')).toBe('user');
    const body = (await limited.json()) as { message: string; global: boolean };
    expect(body.message).toBe('You are being rate limited.');
    expect(body.global).toBe(false);
  });

  it('says hello, acks heartbeats and closes 4004 on a bad token', async () => {
    const g = await RawGateway.open(fake.gatewayUrl);
    expect(await g.next()).toMatchObject({ op: 10, d: { heartbeat_interval: 1000 }, s: null, t: null });
    g.send({ op: 1, d: null });
    expect(await g.next()).toMatchObject({ op: 11 });
    g.send({
      op: 2,
      d: { token: 'nope', intents: 1, properties: { os: 'linux', browser: 'x', device: 'x' } },
    });
    expect(await g.closed).toBe(4004);
  });

  it('sends READY then GUILD_CREATE on identify, and replays missed events on resume', async () => {
    const g = await RawGateway.open(fake.gatewayUrl);
    await g.next();
    g.send({
      op: 2,
      d: { token: fake.token, intents: 1, properties: { os: 'linux', browser: 'x', device: 'x' } },
    });
    const ready = await g.next();
    expect(ready).toMatchObject({
      op: 0,
      t: 'READY',
      s: 1,
      d: {
        v: 10,
        user: { id: fake.applicationId, discriminator: '0', avatar: null, bot: true },
        application: { id: fake.applicationId, flags: 0 },
        guilds: [{ id: fake.guildId, unavailable: true }],
        resume_gateway_url: fake.gatewayUrl,
      },
    });
    const guild = await g.next();
    expect(guild).toMatchObject({
      op: 0,
      t: 'GUILD_CREATE',
      s: 2,
      d: { id: fake.guildId, unavailable: false },
    });
    const channels = (guild.d as { channels: { id: string; name: string; type: number }[] }).channels;
    expect(channels).toContainEqual(
      expect.objectContaining({ id: fake.alertChannelId, name: 'alerts', type: 0 }),
    );
    const sessionId = (ready.d as { session_id: string }).session_id;

    // A privileged intent that was not granted ends the connection with 4014.
    const greedy = await RawGateway.open(fake.gatewayUrl);
    await greedy.next();
    greedy.send({
      op: 2,
      d: { token: fake.token, intents: 1 << 15, properties: { os: 'l', browser: 'x', device: 'x' } },
    });
    expect(await greedy.closed).toBe(4014);

    g.socket.close(4000);
    await g.closed;
    const r = await RawGateway.open(fake.gatewayUrl);
    await r.next();
    r.send({ op: 6, d: { token: fake.token, session_id: sessionId, seq: 1 } });
    expect(await r.next()).toMatchObject({ op: 0, t: 'GUILD_CREATE', s: 2 });
    expect(await r.next()).toMatchObject({ op: 0, t: 'RESUMED', s: 3 });
    r.socket.close(1000);
    await r.closed;

    const stale = await RawGateway.open(fake.gatewayUrl);
    await stale.next();
    stale.send({ op: 6, d: { token: fake.token, session_id: sessionId, seq: 3 } });
    expect(await stale.next()).toMatchObject({ op: 9, d: false });
    stale.socket.close(1000);
    expect(fake.gatewayStats()).toMatchObject({ identifies: 1, resumes: 1 });
  });
});

describe('fake Discord driven by discord.js', () => {
  let fake: FakeDiscord;
  let client: Client;
  let route: (i: Interaction) => Promise<void> = async () => undefined;
  const handlerErrors: unknown[] = [];

  beforeAll(async () => {
    fake = await startFakeDiscord();
    client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiRoot } });
    client.on(Events.InteractionCreate, (i) => {
      route(i).catch((e: unknown) => handlerErrors.push(e));
    });
    const ready = once(client, Events.ClientReady);
    await client.login(fake.token);
    await ready;
    const commands = [
      new SlashCommandBuilder()
        .setName('status')
        .setDescription('Show the grids')
        .addStringOption((o) => o.setName('symbol').setDescription('Pair').setAutocomplete(true)),
      new SlashCommandBuilder()
        .setName('chart')
        .setDescription('Price chart')
        .addStringOption((o) =>
          o
            .setName('symbol')
            .setDescription('Pair')
            .setRequired(true)
            .addChoices({ name: 'BTCUSDT', value: 'BTCUSDT' }, { name: 'ETHUSDT', value: 'ETHUSDT' }),
        ),
      new SlashCommandBuilder()
        .setName('grid')
        .setDescription('Grid control')
        .addSubcommand((s) =>
          s
            .setName('stop')
            .setDescription('Stop a grid')
            .addIntegerOption((o) => o.setName('id').setDescription('Grid id').setRequired(true)),
        ),
      new SlashCommandBuilder().setName('late').setDescription('Answers too late'),
    ];
    await client.application!.commands.set(
      commands.map((c) => c.toJSON()),
      fake.guildId,
    );
  });

  afterAll(async () => {
    await client.destroy();
    await fake.close();
  });

  it('logs in, reaches ClientReady and caches the guild from GUILD_CREATE', () => {
    expect(client.isReady()).toBe(true);
    expect(client.user?.id).toBe(fake.applicationId);
    expect(client.user?.bot).toBe(true);
    const guild = client.guilds.cache.get(fake.guildId);
    expect(guild?.available).toBe(true);
    expect(guild?.channels.cache.get(fake.alertChannelId)?.name).toBe('alerts');
    expect(guild?.members.me?.id).toBe(fake.applicationId);
    expect(fake.calls('/gateway/bot')[0]?.authorized).toBe(true);
  });

  it('records bulk-overwritten guild commands and rejects invalid ones with 50035', async () => {
    const registered = fake.registeredCommands();
    expect(registered.map((c) => c.name).sort()).toEqual(['chart', 'grid', 'late', 'status']);
    expect(registered.every((c) => c.guild_id === fake.guildId && /^\d{17,20}$/.test(c.id))).toBe(true);
    // discord.js parsed the fake's answer into its cache under the ids the fake assigned.
    expect([...client.application!.commands.cache.keys()].sort()).toEqual(registered.map((c) => c.id).sort());
    const bad = client.rest.put(Routes.applicationGuildCommands(fake.applicationId, fake.guildId), {
      body: [{ name: 'Bad Name', description: 'x', type: 1 }],
    });
    await expect(bad).rejects.toMatchObject({ code: 50035, status: 400 });
    expect(fake.registeredCommands()).toHaveLength(4);
  });

  it('shows a slash reply with an embed and a button through final()', async () => {
    let seen: { user: string; channel: string | null; symbol: string | null } | null = null;
    route = async (i) => {
      if (!i.isChatInputCommand() || i.commandName !== 'status') return;
      seen = { user: i.user.id, channel: i.channelId, symbol: i.options.getString('symbol') };
      await i.reply({
        embeds: [new EmbedBuilder().setTitle('Grids').addFields({ name: 'BTCUSDT', value: 'running' })],
        components: [
          new ActionRowBuilder<ButtonBuilder>().addComponents(
            new ButtonBuilder().setCustomId('refresh').setLabel('Refresh').setStyle(ButtonStyle.Primary),
          ),
        ],
      });
    };
    const h = fake.slash(alice, 'status', { symbol: 'BTCUSDT' });
    const final = await h.final();
    expect(seen).toEqual({ user: alice.id, channel: fake.commandChannelId, symbol: 'BTCUSDT' });
    expect((await h.response()).type).toBe(4);
    expect(final.type).toBe(20);
    expect(final.author).toMatchObject({ id: fake.applicationId, bot: true, discriminator: '0' });
    expect(final.embeds[0]).toMatchObject({
      title: 'Grids',
      fields: [{ name: 'BTCUSDT', value: 'running' }],
    });
    expect(final.components[0]?.components?.[0]).toMatchObject({
      type: 2,
      custom_id: 'refresh',
      label: 'Refresh',
    });
    expect(fake.channelMessages(fake.commandChannelId).map((m) => m.id)).toContain(final.id);
    const callback = fake.calls(`/interactions/${h.id}/`)[0];
    expect(callback).toMatchObject({
      method: 'POST',
      status: 204,
      authorized: false,
      query: { with_response: 'false' },
    });

    const again = client.rest.post(Routes.interactionCallback(h.id, h.token), {
      body: { type: 4, data: { content: 'twice' } },
      auth: false,
    });
    await expect(again).rejects.toMatchObject({ code: 40060, status: 400 });
    expect(() => fake.slash(alice, 'chart', { symbol: 'DOGEUSDT' })).toThrow(
      /not one of the offered choices/,
    );
    expect(() => fake.slash(alice, 'nope')).toThrow(/not a registered/);
  });

  it('stores the PNG of a deferReply + editReply and ends the loading state', async () => {
    route = async (i) => {
      if (!i.isChatInputCommand() || i.commandName !== 'chart') return;
      await i.deferReply();
      await sleep(50);
      const symbol = i.options.getString('symbol', true);
      await i.editReply({
        content: `${symbol} 1h`,
        embeds: [new EmbedBuilder().setTitle(symbol).setImage('attachment://chart.png')],
        files: [new AttachmentBuilder(PNG, { name: 'chart.png' })],
      });
    };
    const h = fake.slash(alice, 'chart', { symbol: 'ETHUSDT' });
    const response = await h.response();
    expect(response.type).toBe(5);
    expect(response.message?.flags).toBe(MessageFlags.Loading);
    const final = await h.final();
    expect(final.id).toBe(response.message?.id);
    expect(final.flags).toBe(0);
    expect(final.content).toBe('ETHUSDT 1h');
    const [attachment] = final.attachments;
    expect(attachment).toMatchObject({
      filename: 'chart.png',
      size: PNG.length,
      content_type: 'image/png',
      width: 1,
    });
    expect(attachment?.data.equals(PNG)).toBe(true);
    expect(final.embeds[0]?.image?.url).toBe(attachment?.url);
    const downloaded = Buffer.from(await (await fetch(attachment!.url)).arrayBuffer());
    expect(downloaded.equals(PNG)).toBe(true);
    const edit = fake.calls(`/webhooks/${fake.applicationId}/${h.token}/messages/@original`)[0];
    expect(edit).toMatchObject({
      method: 'PATCH',
      status: 200,
      files: [{ field: 'files[0]', filename: 'chart.png' }],
    });
  });

  it('updates the pressed message for a button handled with interaction.update()', async () => {
    route = async (i) => {
      if (i.isChatInputCommand() && i.commandName === 'grid') {
        const id = i.options.getInteger('id', true);
        await i.reply({
          content: `Stop grid ${id}?`,
          components: [
            new ActionRowBuilder<ButtonBuilder>().addComponents(
              new ButtonBuilder().setCustomId(`stop:${id}`).setLabel('Stop').setStyle(ButtonStyle.Danger),
              new ButtonBuilder().setCustomId('cancel').setLabel('Cancel').setStyle(ButtonStyle.Secondary),
            ),
          ],
          flags: MessageFlags.Ephemeral,
        });
      } else if (i.isButton() && i.customId.startsWith('stop:')) {
        await i.update({
          content: `Grid ${i.customId.slice(5)} stopped by ${i.user.username}`,
          components: [],
        });
      }
    };
    const ask = await fake.slash(alice, 'grid stop', { id: 42 }).final();
    expect(ask.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    expect(fake.channelMessages(fake.commandChannelId).map((m) => m.id)).not.toContain(ask.id);
    expect(() => fake.press(alice, ask, 'missing')).toThrow(/no component/);
    // Only Alice sees her ephemeral message, so only she can press its buttons.
    expect(() => fake.press(bob, ask, 'stop:42')).toThrow(/ephemeral: only user 712345678901234567/);
    const pressed = fake.press(alice, ask, 'stop:42');
    expect((await pressed.response()).type).toBe(7);
    const final = await pressed.final();
    expect(final.id).toBe(ask.id);
    expect(final.content).toBe('Grid 42 stopped by alice');
    expect(final.components).toEqual([]);
    expect(fake.message(ask.id)?.content).toBe('Grid 42 stopped by alice');
  });

  it('answers with_response=true, posts follow-ups and ends a deferUpdate with the edited message', async () => {
    let callbackMessageId: string | null = null;
    route = async (i) => {
      if (i.isChatInputCommand() && i.commandName === 'status') {
        const res = await i.reply({
          content: 'menu',
          components: [
            new ActionRowBuilder<ButtonBuilder>().addComponents(
              new ButtonBuilder().setCustomId('pause').setLabel('Pause').setStyle(ButtonStyle.Primary),
            ),
          ],
          withResponse: true,
        });
        callbackMessageId = res.resource?.message?.id ?? null;
        await i.followUp({ content: 'details', files: [new AttachmentBuilder(PNG, { name: 'detail.png' })] });
      } else if (i.isButton() && i.customId === 'pause') {
        await i.deferUpdate();
        await i.editReply({ content: 'paused', components: [] });
      }
    };
    const h = fake.slash(alice, 'status');
    const menu = await h.final();
    const details = await fake.waitForChannelMessage((m) => m.content === 'details', 3000);
    expect(callbackMessageId).toBe(menu.id);
    expect(h.followUps().map((m) => m.id)).toEqual([details.id]);
    expect(details.attachments[0]?.data.equals(PNG)).toBe(true);
    expect(fake.calls(`/interactions/${h.id}/`)[0]).toMatchObject({
      status: 200,
      query: { with_response: 'true' },
    });

    const pressed = fake.press(alice, menu, 'pause');
    expect((await pressed.response()).type).toBe(6);
    const final = await pressed.final();
    expect(final).toMatchObject({ id: menu.id, content: 'paused', components: [] });
  });

  it('resolves autocomplete to the choices the bot responds with', async () => {
    let focused = '';
    route = async (i) => {
      if (!i.isAutocomplete()) return;
      focused = i.options.getFocused();
      const pairs = ['BTCUSDT', 'BCHUSDT', 'ETHUSDT'].filter((p) => p.startsWith(focused.toUpperCase()));
      await i.respond(pairs.map((p) => ({ name: p, value: p })));
    };
    const choices = await fake.autocomplete(alice, 'status', 'symbol', 'b');
    expect(focused).toBe('b');
    expect(choices).toEqual([
      { name: 'BTCUSDT', value: 'BTCUSDT' },
      { name: 'BCHUSDT', value: 'BCHUSDT' },
    ]);
  });

  it('records channel.send to the alert channel', async () => {
    const channel = (await client.channels.fetch(fake.alertChannelId)) as TextChannel;
    const waiting = fake.waitForChannelMessage((m) => m.content.startsWith('Grid BTCUSDT filled'), 3000);
    const sent = await channel.send({
      content: 'Grid BTCUSDT filled buy 0.01 @ 60000',
      embeds: [{ title: 'Fill' }],
    });
    const seen = await waiting;
    expect(seen.id).toBe(sent.id);
    expect(seen).toMatchObject({
      type: 0,
      channel_id: fake.alertChannelId,
      embeds: [{ type: 'rich', title: 'Fill' }],
    });
    expect(fake.channelMessages(fake.alertChannelId).map((m) => m.content)).toContain(
      'Grid BTCUSDT filled buy 0.01 @ 60000',
    );
  });

  it('parses mentions from content as allowed_mentions says (all for channel posts, users for responses)', async () => {
    const channel = client.channels.cache.get(fake.alertChannelId) as TextChannel;
    const content = `@everyone <@${alice.id}> <@&${fake.guildId}> look`;
    const open = await channel.send({ content });
    const posted = fake.message(open.id)!;
    expect(posted.mention_everyone).toBe(true);
    expect(posted.mentions).toMatchObject([{ id: alice.id }]);
    expect(posted.mention_roles).toEqual([fake.guildId]);
    const quiet = fake.message((await channel.send({ content, allowedMentions: { parse: [] } })).id)!;
    expect(quiet).toMatchObject({ mention_everyone: false, mentions: [], mention_roles: [] });
    const onlyAlice = fake.message(
      (await channel.send({ content, allowedMentions: { users: [alice.id] } })).id,
    )!;
    expect(onlyAlice).toMatchObject({
      mention_everyone: false,
      mentions: [{ id: alice.id }],
      mention_roles: [],
    });
    // An edit parses its new content again.
    await channel.messages.edit(open.id, { content: 'calm now', allowedMentions: { parse: [] } });
    expect(fake.message(open.id)).toMatchObject({
      content: 'calm now',
      mention_everyone: false,
      mentions: [],
    });
    // parse "users" with a users list is the documented invalid combination.
    const bad = client.rest.post(Routes.channelMessages(fake.alertChannelId), {
      body: { content, allowed_mentions: { parse: ['users'], users: [alice.id] } },
    });
    await expect(bad).rejects.toMatchObject({ code: 50035, status: 400 });
    await expect(
      client.rest.post(Routes.channelMessages(fake.alertChannelId), {
        body: { content, allowed_mentions: { parse: ['all'] } },
      }),
    ).rejects.toMatchObject({ code: 50035 });
    // An interaction response parses user mentions only, unless told otherwise.
    route = async (i) => {
      if (i.isChatInputCommand() && i.commandName === 'status') await i.reply({ content });
    };
    const reply = await fake.slash(alice, 'status').final();
    expect(reply).toMatchObject({ mention_everyone: false, mentions: [{ id: alice.id }], mention_roles: [] });
  });

  it('keeps commands with default_member_permissions "0" to admins and to whom an overwrite allows', async () => {
    let member: { user: string; admin: boolean } | null = null;
    route = async (i) => {
      if (i.isAutocomplete()) return i.respond([{ name: 'BTCUSDT', value: 'BTCUSDT' }]);
      if (!i.isChatInputCommand() || i.commandName !== 'secret') return;
      member = { user: i.user.id, admin: i.memberPermissions?.has('Administrator') ?? false };
      await i.reply('ok');
    };
    await client.rest.put(Routes.applicationCommands(fake.applicationId), {
      body: [
        new SlashCommandBuilder()
          .setName('secret')
          .setDescription('Admins only by default')
          .setDefaultMemberPermissions(0n)
          .setContexts(0)
          .addStringOption((o) => o.setName('symbol').setDescription('Pair').setAutocomplete(true))
          .toJSON(),
      ],
    });
    const secret = fake.registeredCommands().find((c) => c.name === 'secret')!;
    expect(secret).toMatchObject({ default_member_permissions: '0', contexts: [0] });
    expect(secret.guild_id).toBeUndefined();
    expect(() => fake.slash(alice, 'secret')).toThrow(/\/secret is not available to alice/);
    await expect(fake.autocomplete(alice, 'secret', 'symbol', 'b')).rejects.toThrow(/not available/);
    // Guild commands without defaults stay open to everyone.
    expect(fake.registeredCommands().find((c) => c.name === 'status')?.default_member_permissions).toBeNull();
    expect((await fake.slash(root, 'secret').final()).content).toBe('ok');
    expect(member).toEqual({ user: root.id, admin: true });
    // An admin grants the app's commands to Alice (Server Settings > Integrations), then takes /secret from her.
    fake.setCommandPermissions([{ id: alice.id, type: 2, permission: true }]);
    expect((await fake.slash(alice, 'secret').final()).content).toBe('ok');
    expect(member).toEqual({ user: alice.id, admin: false });
    expect(await fake.autocomplete(alice, 'secret', 'symbol', 'b')).toHaveLength(1);
    expect(() => fake.slash(bob, 'secret')).toThrow(/not available to bob/);
    fake.setCommandPermissions(
      [
        { id: fake.guildId, type: 1, permission: true },
        { id: alice.id, type: 2, permission: false },
      ],
      'secret',
    );
    expect((await fake.slash(bob, 'secret').final()).content).toBe('ok');
    expect(() => fake.slash(alice, 'secret')).toThrow(/not available/);
    expect((await fake.slash(root, 'secret').final()).content).toBe('ok');
    fake.setCommandPermissions([], 'secret');
    fake.setCommandPermissions([]);
    const bad = client.rest.put(Routes.applicationCommands(fake.applicationId), {
      body: [{ name: 'x', description: 'x', type: 1, default_member_permissions: 'all' }],
    });
    await expect(bad).rejects.toMatchObject({ code: 50035 });
  });

  it('makes discord.js wait out an injected 429 (route and global) and deliver the message once', async () => {
    const channel = client.channels.cache.get(fake.alertChannelId) as TextChannel;
    for (const global of [false, true]) {
      const content = `after 429 (global ${global})`;
      fake.rateLimitNext(1, 0.2, { global });
      const started = Date.now();
      await channel.send(content);
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      expect(fake.channelMessages(fake.alertChannelId).filter((m) => m.content === content)).toHaveLength(1);
      const posts = fake
        .calls(`/channels/${fake.alertChannelId}/messages`)
        .filter((c) => c.method === 'POST' && (c.body as { content?: string }).content === content);
      expect(posts.map((c) => c.status)).toEqual([429, 200]);
    }
  });

  it('rejects invalid message bodies as Discord does', async () => {
    const post = (body: unknown, channelId = fake.commandChannelId) =>
      client.rest.post(Routes.channelMessages(channelId), { body });
    await expect(post({ content: 'x'.repeat(2001) })).rejects.toMatchObject({ code: 50035, status: 400 });
    const big = { description: 'x'.repeat(3100) };
    const tooBig = post({ embeds: [big, big] }).catch((e: unknown) => e);
    expect(await tooBig).toBeInstanceOf(DiscordAPIError);
    expect(((await tooBig) as DiscordAPIError).rawError).toMatchObject({
      code: 50035,
      errors: { embeds: { _errors: [{ code: 'MAX_EMBED_SIZE_EXCEEDED' }] } },
    });
    const buttons = Array.from({ length: 6 }, (_, n) => ({
      type: 2,
      style: 1,
      label: `b${n}`,
      custom_id: `b${n}`,
    }));
    await expect(post({ components: [{ type: 1, components: buttons }] })).rejects.toMatchObject({
      code: 50035,
    });
    await expect(post({})).rejects.toMatchObject({ code: 50006 });
    await expect(post({ content: 'hi' }, '1')).rejects.toMatchObject({ code: 10003, status: 404 });
  });

  it('gives a late first reply DiscordAPIError 10062', async () => {
    fake.setInteractionDeadline(200);
    try {
      let failure: unknown = null;
      const handled = new Promise<void>((resolve) => {
        route = async (i) => {
          if (!i.isChatInputCommand() || i.commandName !== 'late') return;
          await sleep(400);
          try {
            await i.reply('finally');
          } catch (e) {
            failure = e;
          }
          resolve();
        };
      });
      const h = fake.slash(alice, 'late');
      await expect(h.response()).rejects.toThrow(/not acknowledged within 200 ms/);
      await Promise.race([
        handled,
        sleep(5000, undefined, { ref: false }).then(() => {
          throw new Error('the late handler never ran');
        }),
      ]);
      expect(failure).toBeInstanceOf(DiscordAPIError);
      expect(failure).toMatchObject({ code: 10062, status: 404, message: 'Unknown interaction' });
      expect(fake.channelMessages(fake.commandChannelId).some((m) => m.content === 'finally')).toBe(false);
    } finally {
      fake.setInteractionDeadline(3000);
    }
  });

  it('resumes after a dropped gateway socket and replays the interaction sent meanwhile', async () => {
    const resumed = once(client, Events.ShardResume);
    route = async (i) => {
      if (i.isChatInputCommand() && i.commandName === 'status') await i.reply('still here');
    };
    fake.dropGateway();
    const h = fake.slash(alice, 'status');
    await resumed;
    const final: FakeMessage = await h.final();
    expect(final.content).toBe('still here');
    expect(fake.gatewayStats()).toMatchObject({ identifies: 1, resumes: 1, connections: 1 });
  });

  it('destroys the client and closes the fake without hanging', async () => {
    expect(handlerErrors).toEqual([]);
    const started = Date.now();
    await client.destroy();
    await fake.close();
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
