import { NotificationRouter } from '../app/notifications.js';
import type {
  DeliveryQueue,
  Destination,
  DigestBuffer,
  NotificationFailures,
  NotifyPrefs,
} from '../app/ports/notifications.js';
import type { Config } from '../config.js';
import type { Logger } from '../log/logger.js';
import { VERSION } from '../version.js';
import { ChatCommands } from './commands/dispatch.js';
import { profitPerGridImage } from './commands/reports.js';
import type { ChatDeps } from './commands/types.js';
import { DiscordChat } from './discord.js';
import { TelegramChat } from './telegram.js';

/**
 * What the bot role hands the chat: the app's services and ports, and the settings; never a connection or a queue
 * (the role builds the ports over them).
 */
export interface ChatServices
  extends Pick<
    ChatDeps,
    | 'grids'
    | 'risk'
    | 'views'
    | 'reports'
    | 'backtests'
    | 'symbols'
    | 'market'
    | 'prices'
    | 'instrument'
    | 'audit'
    | 'confirmations'
  > {
  readonly config: Config;
  /** The notification router's ports, and each chat user's choices of what reaches them (/notify). */
  readonly prefs: NotifyPrefs;
  readonly deliveries: DeliveryQueue;
  readonly digests: DigestBuffer;
  readonly failures: NotificationFailures;
}

export interface Chat {
  readonly commands: ChatCommands;
  readonly router: NotificationRouter;
  readonly telegram: TelegramChat | null;
  readonly discord: DiscordChat | null;
  stop(): Promise<void>;
}

/** Where alerts go, from the configuration (see .env.example). */
export function destinations(config: Config): Destination[] {
  const out: Destination[] = [];
  if (config.TELEGRAM_BOT_TOKEN) {
    if (config.TELEGRAM_ALERT_CHAT_ID) {
      const topic = config.TELEGRAM_ALERT_TOPIC_ID;
      out.push({
        kind: 'telegram',
        id: `tg-${config.TELEGRAM_ALERT_CHAT_ID}${topic ? `-${topic}` : ''}`,
        chatId: config.TELEGRAM_ALERT_CHAT_ID,
        ...(topic ? { topicId: topic } : {}),
      });
    } else {
      // Every operator's private chat, each with their own choices (/notify).
      for (const user of config.TELEGRAM_ALLOWED_USERS ?? [])
        out.push({ kind: 'telegram', id: `tg-${user}`, chatId: user, userId: user });
    }
  }
  if (config.DISCORD_BOT_TOKEN && config.DISCORD_ALERT_CHANNEL_ID)
    out.push({
      kind: 'discord',
      id: `dc-${config.DISCORD_ALERT_CHANNEL_ID}`,
      channelId: config.DISCORD_ALERT_CHANNEL_ID,
    });
  if (config.NOTIFY_WEBHOOK_URL && config.NOTIFY_WEBHOOK_SECRET)
    out.push({
      kind: 'webhook',
      id: 'webhook',
      url: config.NOTIFY_WEBHOOK_URL,
      secret: config.NOTIFY_WEBHOOK_SECRET,
    });
  return out;
}

/**
 * The chat side of the bot role: the command layer, the transports whose tokens are set, and the notification
 * router. One process at a time should run it (Telegram allows one poller per token).
 */
export async function startChat(
  services: ChatServices,
  log: Logger,
  nowMs: () => number = Date.now,
): Promise<Chat> {
  const { config, prefs } = services;
  const deps: ChatDeps = {
    grids: services.grids,
    risk: services.risk,
    views: services.views,
    reports: services.reports,
    backtests: services.backtests,
    symbols: services.symbols,
    market: services.market,
    prices: services.prices,
    instrument: services.instrument,
    audit: services.audit,
    confirmations: services.confirmations,
    prefs,
    mode: config.TRADING_MODE,
    version: VERSION,
    roles: {
      telegram: {
        operators: config.TELEGRAM_ALLOWED_USERS ?? [],
        readonly: config.TELEGRAM_READONLY_USERS ?? [],
      },
      discord: {
        operators: config.DISCORD_ALLOWED_USERS ?? [],
        readonly: config.DISCORD_READONLY_USERS ?? [],
      },
    },
    nowMs,
    confirmTtlMs: config.CHAT_CONFIRM_TTL_MS,
  };
  const commands = new ChatCommands(deps);
  const telegram = config.TELEGRAM_BOT_TOKEN
    ? new TelegramChat({
        token: config.TELEGRAM_BOT_TOKEN,
        ...(config.TELEGRAM_API_ROOT ? { apiRoot: config.TELEGRAM_API_ROOT } : {}),
        commands,
        log: log.child({ component: 'telegram' }),
        chatGapMs: config.TELEGRAM_CHAT_GAP_MS,
        ...(config.TELEGRAM_WEBHOOK_URL && config.TELEGRAM_WEBHOOK_SECRET
          ? {
              webhook: {
                url: config.TELEGRAM_WEBHOOK_URL,
                secret: config.TELEGRAM_WEBHOOK_SECRET,
                port: config.TELEGRAM_WEBHOOK_PORT,
                host: config.TELEGRAM_WEBHOOK_HOST,
              },
            }
          : {}),
      })
    : null;
  const discord =
    config.DISCORD_BOT_TOKEN && config.DISCORD_APPLICATION_ID
      ? new DiscordChat({
          token: config.DISCORD_BOT_TOKEN,
          applicationId: config.DISCORD_APPLICATION_ID,
          ...(config.DISCORD_GUILD_ID ? { guildId: config.DISCORD_GUILD_ID } : {}),
          ...(config.DISCORD_API_ROOT ? { apiRoot: config.DISCORD_API_ROOT } : {}),
          commands,
          log: log.child({ component: 'discord' }),
          deferAfterMs: config.DISCORD_DEFER_AFTER_MS,
          publicReplies: config.DISCORD_PUBLIC_REPLIES,
        })
      : null;
  const router = new NotificationRouter({
    deliveries: services.deliveries,
    digests: services.digests,
    failures: services.failures,
    destinations: destinations(config),
    prefs,
    senders: {
      ...(telegram ? { telegram: (chat, reply, topic) => telegram.send(chat, reply, topic) } : {}),
      ...(discord ? { discord: (channel, reply) => discord.send(channel, reply) } : {}),
    },
    digestMs: config.NOTIFY_DIGEST_MS,
    log: log.child({ component: 'notify' }),
    chart: () => profitPerGridImage(deps),
  });
  await telegram?.start();
  await discord?.start();
  if (telegram) log.info('Telegram bot running');
  if (discord) log.info('Discord bot running');
  return {
    commands,
    router,
    telegram,
    discord,
    async stop() {
      await telegram?.stop();
      await discord?.stop();
    },
  };
}
