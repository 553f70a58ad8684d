import {
  ActionRowBuilder,
  type APIApplicationCommandOption,
  ApplicationCommandOptionType,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  type ChatInputCommandInteraction,
  Client,
  EmbedBuilder,
  Events,
  escapeMarkdown,
  GatewayIntentBits,
  type Interaction,
  InteractionContextType,
  type MessageCreateOptions,
  MessageFlags,
} from 'discord.js';
import type { Logger } from '../log/logger.js';
import type { ChatCommands } from './commands/dispatch.js';
import { COMMANDS } from './commands/table.js';
import type { ArgSpec } from './commands/types.js';
import type { Reply } from './reply.js';

const COLOUR: Record<Reply['severity'], number> = {
  info: 0x38bdf8,
  success: 0x22c55e,
  warning: 0xf59e0b,
  critical: 0xdc2626,
  error: 0xef4444,
};

const TITLE_LIMIT = 256;
const DESCRIPTION_LIMIT = 4096;

/** No message of the bot pings anyone: @everyone, @here, users and roles in its text stay plain text. */
const NO_MENTIONS = { parse: [] as never[] };

/**
 * Text as Discord shows it literally: markdown escaped (headings, lists, quotes and masked links too), so a grid name,
 * a kill reason or a TradingView field such as "**x**" or "# x" cannot format the message.
 */
export function discordEscape(text: string): string {
  return escapeMarkdown(text, {
    heading: true,
    bulletedList: true,
    numberedList: true,
    maskedLink: true,
  }).replace(/^(\s*)>/gm, '$1\\>');
}

/** Cuts escaped text to a limit, without leaving half an escape (a lone backslash) at the end. */
function clip(text: string, limit: number, tail = ''): string {
  if (text.length <= limit) return text;
  let cut = text.slice(0, limit - tail.length);
  const backslashes = /\\*$/.exec(cut)![0].length;
  if (backslashes % 2 === 1) cut = cut.slice(0, -1);
  return `${cut}${tail}`;
}

/** A reply as a Discord message: one embed coloured by severity, the chart as an attachment, buttons in a row. */
export function discordMessage(r: Reply): MessageCreateOptions & { embeds: EmbedBuilder[] } {
  const description = clip(r.lines.map(discordEscape).join('\n'), DESCRIPTION_LIMIT, '\n…');
  const embed = new EmbedBuilder()
    .setTitle(clip(discordEscape(r.title.replaceAll('\n', ' ')), TITLE_LIMIT))
    .setColor(COLOUR[r.severity]);
  if (description) embed.setDescription(description);
  const files = r.image ? [new AttachmentBuilder(r.image.png, { name: r.image.name })] : [];
  if (r.image) embed.setImage(`attachment://${r.image.name}`);
  const style = {
    primary: ButtonStyle.Primary,
    danger: ButtonStyle.Danger,
    secondary: ButtonStyle.Secondary,
  };
  const components = r.buttons?.length
    ? [
        new ActionRowBuilder<ButtonBuilder>().addComponents(
          r.buttons.map((b) =>
            new ButtonBuilder()
              .setCustomId(b.data)
              .setLabel(b.label)
              .setStyle(style[b.style ?? 'primary']),
          ),
        ),
      ]
    : [];
  return { embeds: [embed], files, components, allowedMentions: NO_MENTIONS };
}

function option(a: ArgSpec): APIApplicationCommandOption {
  const base = { name: a.name, description: a.description.slice(0, 100), required: a.required };
  if (a.kind === 'integer')
    return { ...base, type: ApplicationCommandOptionType.Integer } as APIApplicationCommandOption;
  // Prices and amounts stay strings: a Discord "number" is a double, and money is never one here.
  return {
    ...base,
    type: ApplicationCommandOptionType.String,
    ...(a.choices ? { choices: a.choices.map((c) => ({ name: c, value: c })) } : {}),
    ...(a.kind === 'symbol' || a.kind === 'grid' ? { autocomplete: true } : {}),
  } as APIApplicationCommandOption;
}

/**
 * Commands whose answers show the account's figures (balances, positions, orders, fills, P/L, equity, drawdown):
 * answered to the asker alone unless DISCORD_PUBLIC_REPLIES=true. The rest (/help, /version, /market, /backtest on
 * stored candles, /notify) say nothing about the account; confirmations stay public so the team sees what is asked.
 */
export const ACCOUNT_FIGURES: ReadonlySet<string> = new Set([
  'status',
  'grid',
  'pnl',
  'trades',
  'orders',
  'balance',
  'risk',
  'daily',
]);

/**
 * The slash commands, from the same specs as the Telegram menu. default_member_permissions "0": only the server's
 * administrators see and can use them until an admin grants them to roles or members (Server Settings > Integrations
 * > GridOps). That only hides them from the rest of the server; who may do what is still decided by
 * DISCORD_ALLOWED_USERS and DISCORD_READONLY_USERS, on every command, press and autocomplete. Registered globally
 * they are for servers only (no DMs, where server permissions do not apply); a guild's commands are there anyway.
 */
export function slashCommands(global = false) {
  return COMMANDS.map((c) => ({
    name: c.name,
    description: c.description.slice(0, 100),
    options: [...c.args].sort((x, y) => Number(y.required) - Number(x.required)).map(option),
    default_member_permissions: '0',
    ...(global ? { contexts: [InteractionContextType.Guild], dm_permission: false } : {}),
  }));
}

/**
 * Discord's side of the chat: slash commands with autocomplete, buttons, embeds and attachments, and messages to the
 * alert channel. Rate limits are discord.js's to honour (it waits out a 429 and retries).
 */
export class DiscordChat {
  readonly client: Client;

  constructor(
    private readonly options: {
      token: string;
      applicationId: string;
      guildId?: string;
      apiRoot?: string;
      commands: ChatCommands;
      log: Logger;
      /** Past this, a command is acknowledged as "thinking" and answered by an edit (Discord waits 3 s at most). */
      deferAfterMs: number;
      /** Answers showing account figures are seen by the whole channel (DISCORD_PUBLIC_REPLIES), not the asker alone. */
      publicReplies?: boolean;
    },
  ) {
    this.client = new Client({
      intents: [GatewayIntentBits.Guilds],
      // Every message already says so; this covers any that would not.
      allowedMentions: NO_MENTIONS,
      ...(options.apiRoot ? { rest: { api: options.apiRoot } } : {}),
    });
    this.client.on(Events.InteractionCreate, (i) => {
      this.onInteraction(i).catch((e) => options.log.error(`discord: ${(e as Error).message}`));
    });
    this.client.on(Events.Error, (e) => options.log.error(`discord: ${e.message}`));
  }

  async start(): Promise<void> {
    const ready = new Promise<void>((resolve) => this.client.once(Events.ClientReady, () => resolve()));
    await this.client.login(this.options.token);
    await ready;
    if (this.options.guildId)
      await this.client.application!.commands.set(slashCommands(), this.options.guildId);
    else await this.client.application!.commands.set(slashCommands(true));
  }

  async stop(): Promise<void> {
    await this.client.destroy();
  }

  /** A notification to a channel. */
  async send(channelId: string, r: Reply): Promise<void> {
    const channel = await this.client.channels.fetch(channelId);
    if (!channel?.isSendable()) throw new Error(`channel ${channelId} cannot be written to`);
    await channel.send(discordMessage(r));
  }

  private user(i: Interaction) {
    return { transport: 'discord' as const, userId: i.user.id, name: i.user.username };
  }

  private async onInteraction(i: Interaction): Promise<void> {
    const commands = this.options.commands;
    if (i.isAutocomplete()) {
      // Only a user of the bot learns which symbols it trades; anyone else who can see the command gets no choices.
      if (!commands.actorFor(this.user(i))) {
        await i.respond([]);
        return;
      }
      const focused = i.options.getFocused(true);
      const choices = await commands.suggestSymbols(String(focused.value));
      await i.respond(choices.map((s) => ({ name: s, value: s })));
      return;
    }
    if (i.isButton()) {
      const out = await commands.press(this.user(i), i.customId);
      if (out.pressRefused || (out.severity === 'error' && !i.customId.startsWith('pg:'))) {
        // Someone else's button, a stranger's press, or an expired one: said to the presser only, the message stays
        // as it is (its buttons included).
        await i.reply({ ...discordMessage(out), flags: MessageFlags.Ephemeral } as never);
        return;
      }
      await i.update({ ...discordMessage(out) } as never);
      return;
    }
    if (i.isChatInputCommand()) await this.onCommand(i);
  }

  private async onCommand(i: ChatInputCommandInteraction): Promise<void> {
    const spec = COMMANDS.find((c) => c.name === i.commandName);
    const args = (spec?.args ?? []).map((a) => {
      const v = i.options.get(a.name)?.value;
      return v === undefined || v === null ? '' : String(v);
    });
    while (args.length && args.at(-1) === '') args.pop();
    const user = this.user(i);
    // Decided before the work starts: a deferral's "thinking…" already is public or ephemeral, and so is its answer.
    // A stranger's refusal is theirs alone too.
    const hidden =
      (ACCOUNT_FIGURES.has(i.commandName) && !this.options.publicReplies) ||
      !this.options.commands.actorFor(user);
    const flags = hidden ? { flags: MessageFlags.Ephemeral as const } : {};
    const work = this.options.commands.run(user, i.commandName, args);
    const quick = await Promise.race([
      work,
      new Promise<null>((r) => setTimeout(() => r(null), this.options.deferAfterMs)),
    ]);
    if (quick) {
      await i.reply({ ...discordMessage(quick), ...flags } as never);
      return;
    }
    await i.deferReply(flags);
    await i.editReply(discordMessage(await work) as never);
  }
}
