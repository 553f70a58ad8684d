import { describe, expect, it } from 'vitest';
import { digestReply } from '../../../src/app/notifications.js';
import { discordEscape, discordMessage, slashCommands } from '../../../src/bot/discord.js';
import { splitText } from '../../../src/bot/reply.js';
import { destinations } from '../../../src/bot/start.js';
import { telegramText } from '../../../src/bot/telegram.js';
import { loadConfig } from '../../../src/config.js';

describe('replies as each transport shows them', () => {
  it('Telegram: HTML-escaped, the title in bold, split at line breaks within the limit', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `line ${i} <b>&</b> ${'x'.repeat(20)}`);
    const pieces = telegramText({ title: 'A <title>', severity: 'warning', lines });
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.every((p) => p.length <= 4096)).toBe(true);
    expect(pieces[0]!.startsWith('⚠️ <b>A &lt;title&gt;</b>\nline 0 &lt;b&gt;&amp;&lt;/b&gt;')).toBe(true);
    // Nothing lost, nothing cut inside a line.
    const back = pieces.join('\n').split('\n').slice(1);
    expect(back).toHaveLength(400);
    expect(back[399]).toBe(`line 399 &lt;b&gt;&amp;&lt;/b&gt; ${'x'.repeat(20)}`);
  });

  // Protects: Telegram text is split before it is escaped. Escaping first and cutting after split "&amp;" in two (the
  // piece then shows "&am", the next "p;"); each piece must also fit the limit once escaped.
  it('Telegram: a long line of characters that escape is cut between characters, never inside an entity', () => {
    const line = `${'&'.repeat(3000)}<>${'a&b<c>'.repeat(500)}`;
    const pieces = telegramText({ title: 'Fills & fees', severity: 'info', lines: [line] });
    expect(pieces.length).toBeGreaterThan(3);
    const decode = (s: string) => s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
    for (const p of pieces) {
      expect(p.length).toBeLessThanOrEqual(4096);
      // Every & starts a whole entity: nothing was cut in the middle of one.
      expect(p.replaceAll(/&(amp|lt|gt);/g, '')).not.toMatch(/[&;]|amp|lt|gt/);
    }
    const [first, ...rest] = pieces;
    expect(first!.startsWith('<b>Fills &amp; fees</b>\n')).toBe(true);
    const text = [first!.slice('<b>Fills &amp; fees</b>\n'.length), ...rest].map(decode).join('');
    expect(text).toBe(line);
  });

  // Protects: a long title (a kill reason, say) takes at most a quarter of the first piece, cut with an ellipsis.
  it('Telegram: a long title is cut to a quarter of the limit', () => {
    const [caption] = telegramText(
      { title: `KILL SWITCH ON (${'&'.repeat(600)})`, severity: 'critical', lines: ['x'] },
      1024,
    );
    const title = /^🚨 <b>(.*)<\/b>\nx$/s.exec(caption!)?.[1];
    expect(title).toMatch(/^KILL SWITCH ON \((&amp;)+…$/);
    expect(title!.length).toBeLessThanOrEqual(256);
  });

  it('splitText cuts a line longer than the limit, and keeps short text whole', () => {
    expect(splitText('abc', 10)).toEqual(['abc']);
    expect(splitText('a'.repeat(25), 10)).toEqual(['a'.repeat(10), 'a'.repeat(10), 'a'.repeat(5)]);
    expect(splitText('one\ntwo\nthree', 8)).toEqual(['one\ntwo', 'three']);
  });

  it('Discord: one embed coloured by severity, within the description limit, the chart attached, buttons in a row', () => {
    const long = Array.from({ length: 1000 }, (_, i) => `line ${i}`);
    const m = discordMessage({
      title: 'T'.repeat(300),
      severity: 'critical',
      lines: long,
      image: { png: Buffer.from([1, 2, 3]), name: 'c.png' },
      buttons: [{ label: 'Confirm', data: 'ok:0123456789abcdef', style: 'danger' }],
    });
    const embed = m.embeds[0]!.toJSON();
    expect(embed.title).toHaveLength(256);
    expect(embed.color).toBe(0xdc2626);
    expect(embed.description!.length).toBeLessThanOrEqual(4096);
    expect(embed.description!.endsWith('…')).toBe(true);
    expect(embed.image?.url).toBe('attachment://c.png');
    expect(m.files).toHaveLength(1);
    expect(JSON.parse(JSON.stringify(m.components))[0].components[0]).toMatchObject({
      custom_id: 'ok:0123456789abcdef',
      style: 4,
    });
  });

  // Protects: text from outside shows literally on Discord (markdown escaped, headings, lists, quotes and masked links
  // included), and no message of the bot may ping anyone.
  it('Discord: markdown escaped, mentions disabled', () => {
    const m = discordMessage({
      title: '**grid** @everyone',
      severity: 'info',
      lines: ['# big', '> quote', '- item', '[x](https://e.example)', 'a_b ~~c~~ `d` ||e||', `<@123> @here`],
    });
    const embed = m.embeds[0]!.toJSON();
    expect(embed.title).toBe('\\*\\*grid\\*\\* @everyone');
    expect(embed.description!.split('\n')).toEqual([
      '\\# big',
      '\\> quote',
      '\\- item',
      '\\[x](https://e.example)',
      'a\\_b \\~\\~c\\~\\~ \\`d\\` \\|\\|e\\|\\|',
      '<@123> @here',
    ]);
    expect(m.allowedMentions).toEqual({ parse: [] });
    // A cut never leaves half an escape behind.
    const cut = discordMessage({
      title: 'x',
      severity: 'info',
      lines: ['*'.repeat(5000)],
    }).embeds[0]!.toJSON();
    expect(cut.description!.length).toBeLessThanOrEqual(4096);
    expect(cut.description!.endsWith('\\*\n…')).toBe(true);
    expect(discordEscape('plain 1,000.5 · ok')).toBe('plain 1,000.5 · ok');
  });

  // Protects: the slash commands are registered for administrators only ("0"; admins grant them in Server Settings >
  // Integrations), and globally for servers only.
  it('slash commands: hidden by default_member_permissions "0"; global ones for servers only', () => {
    expect(slashCommands().every((c) => c.default_member_permissions === '0' && !('contexts' in c))).toBe(
      true,
    );
    expect(slashCommands(true).every((c) => c.default_member_permissions === '0')).toBe(true);
    expect(slashCommands(true)[0]).toMatchObject({ contexts: [0], dm_permission: false });
  });

  it('slash commands: valid names, descriptions within 100, prices as strings, symbols autocompleted', () => {
    const commands = slashCommands();
    for (const c of commands) {
      expect(c.name).toMatch(/^[a-z0-9_-]{1,32}$/);
      expect(c.description.length).toBeLessThanOrEqual(100);
      // Required options first, as Discord demands.
      const required = c.options.map((o) => o.required === true);
      expect(required).toEqual([...required].sort((a, b) => Number(b) - Number(a)));
    }
    const create = commands.find((c) => c.name === 'create')!;
    expect(create.options.find((o) => o.name === 'lower')).toMatchObject({ type: 3 });
    expect(create.options.find((o) => o.name === 'symbol')).toMatchObject({ autocomplete: true });
  });

  it('a digest counts fills per grid and lists them with their lines', () => {
    const fill = (i: number, gridId: string) => ({
      category: 'fills' as const,
      severity: 'info' as const,
      key: `fill-${i}`,
      gridId,
      title: `BTCUSDT buy 0.01 @ ${90000 + i}`,
      lines: ['fee 0.9 USDT'],
    });
    const r = digestReply([...Array.from({ length: 40 }, (_, i) => fill(i, 'g1')), fill(99, 'g2')]);
    expect(r.title).toBe('41 fills');
    expect(r.lines[0]).toBe('g1: 40 · g2: 1');
    expect(r.lines[1]).toBe('BTCUSDT buy 0.01 @ 90000 · fee 0.9 USDT');
    expect(r.lines.at(-1)).toBe('… and 11 more (/trades)');
    expect(digestReply([fill(1, 'g1')])).toEqual({
      title: 'BTCUSDT buy 0.01 @ 90001',
      lines: ['fee 0.9 USDT'],
      severity: 'info',
    });
  });
});

describe('where notifications go', () => {
  const base = { DATABASE_URL: 'postgres://x@127.0.0.1/x', REDIS_URL: 'redis://127.0.0.1:6379' };
  it('each operator’s private chat by default; a group or forum topic when set; Discord; the signed webhook', () => {
    const operators = destinations(
      loadConfig({
        ...base,
        TELEGRAM_BOT_TOKEN: '1:abc',
        TELEGRAM_ALLOWED_USERS: '11, 22',
        TELEGRAM_READONLY_USERS: '33',
      }),
    );
    expect(operators).toEqual([
      { kind: 'telegram', id: 'tg-11', chatId: '11', userId: '11' },
      { kind: 'telegram', id: 'tg-22', chatId: '22', userId: '22' },
    ]);
    const all = destinations(
      loadConfig({
        ...base,
        TELEGRAM_BOT_TOKEN: '1:abc',
        TELEGRAM_ALLOWED_USERS: '11',
        TELEGRAM_ALERT_CHAT_ID: '-100123',
        TELEGRAM_ALERT_TOPIC_ID: '7',
        DISCORD_BOT_TOKEN: 'x',
        DISCORD_APPLICATION_ID: '5',
        DISCORD_ALERT_CHANNEL_ID: '9',
        NOTIFY_WEBHOOK_URL: 'https://push.example/x',
        NOTIFY_WEBHOOK_SECRET: '0123456789abcdef',
      }),
    );
    expect(all).toEqual([
      { kind: 'telegram', id: 'tg--100123-7', chatId: '-100123', topicId: 7 },
      { kind: 'discord', id: 'dc-9', channelId: '9' },
      { kind: 'webhook', id: 'webhook', url: 'https://push.example/x', secret: '0123456789abcdef' },
    ]);
  });

  it('refuses half a configuration with a line naming what is missing', () => {
    expect(() => loadConfig({ ...base, NOTIFY_WEBHOOK_URL: 'https://push.example/x' })).toThrow(
      /NOTIFY_WEBHOOK_URL needs NOTIFY_WEBHOOK_SECRET/,
    );
    expect(() => loadConfig({ ...base, TELEGRAM_ALLOWED_USERS: 'me' })).toThrow(
      /TELEGRAM_ALLOWED_USERS must be comma-separated numeric user ids/,
    );
  });
});
