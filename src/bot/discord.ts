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
  GatewayIntentBits,
  type Interaction,
  type MessageCreateOptions,
} from 'discord.js';
import type { Logger } from '../log/logger.js';
import { type ArgSpec, type ChatCommands, COMMANDS } from './commands.js';
import type { Reply } from './reply.js';

const COLOUR: Record<Reply['severity'], number> = {
  info: 0x38bdf8,
  success: 0x22c55e,
  warning: 0xf59e0b,
  critical: 0xdc2626,
  error: 0xef4444,
};

const DESCRIPTION_LIMIT = 4096;

/** A reply as a Discord message: one embed coloured by severity, the chart as an attachment, buttons in a row. */
export function discordMessage(r: Reply): MessageCreateOptions & { embeds: EmbedBuilder[] } {
  let description = r.lines.join('\n');
  if (description.length > DESCRIPTION_LIMIT)
    description = `${description.slice(0, DESCRIPTION_LIMIT - 2)}\n…`;
  const embed = new EmbedBuilder().setTitle(r.title.slice(0, 256)).setColor(COLOUR[r.severity]);
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
  return { embeds: [embed], files, components };
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

/** The slash commands, from the same specs as the Telegram menu. */
export function slashCommands() {
  return COMMANDS.map((c) => ({
    name: c.name,
    description: c.description.slice(0, 100),
    options: [...c.args].sort((x, y) => Number(y.required) - Number(x.required)).map(option),
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
    },
  ) {
    this.client = new Client({
      intents: [GatewayIntentBits.Guilds],
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
    const defs = slashCommands();
    if (this.options.guildId) await this.client.application!.commands.set(defs, this.options.guildId);
    else await this.client.application!.commands.set(defs);
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
      const focused = i.options.getFocused(true);
      const choices = await commands.suggestSymbols(String(focused.value));
      await i.respond(choices.map((s) => ({ name: s, value: s })));
      return;
    }
    if (i.isButton()) {
      const out = await commands.press(this.user(i), i.customId);
      if (out.severity === 'error' && !i.customId.startsWith('pg:')) {
        // Someone else's button, or an expired one: said to the presser only, the message stays as it is.
        await i.reply({ ...discordMessage(out), ephemeral: true } as never);
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
    const work = this.options.commands.run(this.user(i), i.commandName, args);
    const quick = await Promise.race([
      work,
      new Promise<null>((r) => setTimeout(() => r(null), this.options.deferAfterMs)),
    ]);
    if (quick) {
      await i.reply(discordMessage(quick) as never);
      return;
    }
    await i.deferReply();
    await i.editReply(discordMessage(await work) as never);
  }
}
