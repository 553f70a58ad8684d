import { Telegraf } from 'telegraf';
import { RetryLater, Undeliverable } from '../app/ports/notifications.js';
import type { Logger } from '../log/logger.js';
import type { ChatCommands } from './commands/dispatch.js';
import { COMMANDS } from './commands/table.js';
import { type Reply, splitText } from './reply.js';

const TEXT_LIMIT = 4096;
const CAPTION_LIMIT = 1024;
const MARK: Record<Reply['severity'], string> = {
  info: '',
  success: '✅ ',
  warning: '⚠️ ',
  critical: '🚨 ',
  error: '❌ ',
};

const ESCAPED: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const escapeHtml = (s: string) => s.replace(/[&<>]/g, (c) => ESCAPED[c]!);
/** A character's length once escaped: pieces are measured as they will be sent. */
const escapedLength = (c: string) => ESCAPED[c]?.length ?? c.length;

/**
 * A reply as Telegram HTML: the title in bold, then the lines; pieces within the length limit. The plain text is split
 * first, each piece measured as it will be once escaped, and then each piece is escaped: no piece ends inside an
 * entity such as &amp;, and each fits the limit however many characters the escaping adds.
 */
export function telegramText(r: Reply, limit = TEXT_LIMIT): string[] {
  // A title (a kill reason, say) never takes more than a quarter of the first piece.
  const titles = splitText(r.title.replaceAll('\n', ' '), Math.floor(limit / 4) - 1, escapedLength);
  const title = titles.length > 1 ? `${titles[0]}…` : titles[0]!;
  const head = `${MARK[r.severity]}<b>${escapeHtml(title)}</b>`;
  const body = splitText(r.lines.join('\n'), limit - head.length - 1, escapedLength).map(escapeHtml);
  return body.map((piece, i) => (i === 0 ? (piece ? `${head}\n${piece}` : head) : piece));
}

function keyboard(r: Reply) {
  if (!r.buttons?.length) return undefined;
  return { inline_keyboard: [r.buttons.map((b) => ({ text: b.label, callback_data: b.data }))] };
}

interface TelegramErrorLike {
  readonly code?: number;
  readonly description?: string;
  readonly parameters?: { readonly retry_after?: number };
}

/**
 * Telegram's side of the chat: commands and button presses in, replies and notifications out. Sends to one chat are
 * spaced (Telegram allows about one message a second per chat) and a 429's retry_after is honoured, since telegraf
 * never retries API calls itself.
 */
export class TelegramChat {
  readonly bot: Telegraf;
  private readonly nextSendAt = new Map<string, number>();
  private running = false;

  constructor(
    private readonly options: {
      token: string;
      apiRoot?: string;
      commands: ChatCommands;
      log: Logger;
      chatGapMs: number;
      /** Telegram posts to url; telegraf serves it on host:port (loopback: TLS ends at the reverse proxy in front). */
      webhook?: { url: string; secret: string; port: number; host: string };
    },
  ) {
    this.bot = new Telegraf(options.token, {
      telegram: { ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}), webhookReply: false },
    });
    this.bot.on('message', (ctx) => this.onMessage(ctx.message, ctx.chat.id));
    this.bot.on('callback_query', async (ctx) => {
      const q = ctx.callbackQuery;
      const data = 'data' in q ? q.data : undefined;
      const user = {
        transport: 'telegram' as const,
        userId: String(q.from.id),
        name: q.from.username ?? q.from.first_name,
      };
      const out = data ? await options.commands.press(user, data) : null;
      await ctx
        .answerCbQuery(out?.severity === 'error' ? out.title.slice(0, 200) : '', {
          show_alert: out?.pressRefused ?? false,
        })
        .catch(() => undefined);
      if (!out || out.pressRefused || !q.message) return;
      const chatId = String(q.message.chat.id);
      const threadId = (q.message as { message_thread_id?: number }).message_thread_id;
      if (data?.startsWith('pg:') && !out.image) {
        // A page of a long list replaces the one shown.
        const [text] = telegramText(out);
        await this.call(chatId, () =>
          ctx.telegram.editMessageText(chatId, q.message!.message_id, undefined, text!, {
            parse_mode: 'HTML',
            ...(keyboard(out) ? { reply_markup: keyboard(out)! } : {}),
          }),
        ).catch((e) => this.notModified(e));
        return;
      }
      if (data?.startsWith('ok:') || data?.startsWith('no:')) {
        // The confirmation is spent: its buttons go, the outcome follows as a message.
        await ctx.telegram
          .editMessageReplyMarkup(chatId, q.message.message_id, undefined, undefined)
          .catch(() => undefined);
      }
      await this.send(chatId, out, threadId);
    });
    this.bot.catch((e) => options.log.error(`telegram: ${(e as Error).message}`));
  }

  private async onMessage(message: unknown, chat: number): Promise<void> {
    const m = message as {
      text?: string;
      from?: { id: number; username?: string; first_name?: string };
      message_thread_id?: number;
      is_topic_message?: boolean;
    };
    if (!m.text?.startsWith('/') || !m.from) return;
    const [head = '', ...args] = m.text.trim().split(/\s+/);
    const [name = '', addressee] = head.slice(1).split('@');
    const me = this.bot.botInfo?.username;
    // In a group, "/status@OtherBot" is for another bot.
    if (addressee && me && addressee.toLowerCase() !== me.toLowerCase()) return;
    const user = {
      transport: 'telegram' as const,
      userId: String(m.from.id),
      ...(m.from.username || m.from.first_name ? { name: m.from.username ?? m.from.first_name! } : {}),
    };
    const out = await this.options.commands.run(user, name, args);
    await this.send(String(chat), out, m.is_topic_message ? m.message_thread_id : undefined);
  }

  async start(): Promise<void> {
    const menu = COMMANDS.map((c) => ({ command: c.name, description: c.description.slice(0, 256) }));
    await this.bot.telegram.setMyCommands(menu);
    const hook = this.options.webhook;
    if (hook) {
      const url = new URL(hook.url);
      // In webhook mode launch() resolves once the webhook is set (onLaunch fires before that).
      await this.bot.launch({
        webhook: {
          domain: url.host,
          path: url.pathname,
          // telegraf listens on every interface unless told a host.
          host: hook.host,
          port: hook.port,
          secretToken: hook.secret,
        },
      });
    } else {
      // launch() resolves only when polling stops; onLaunch says it started.
      await new Promise<void>((resolve, reject) => {
        this.bot
          .launch(() => resolve())
          .catch((e) => {
            if (this.running) this.options.log.error(`telegram polling stopped: ${(e as Error).message}`);
            reject(e);
          });
      });
    }
    this.running = true;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    try {
      this.bot.stop('shutdown');
    } catch {
      // not running: nothing to stop
    }
  }

  /** Sends a reply or a notification to a chat (a forum topic when threadId is set). */
  async send(chatId: string, r: Reply, threadId?: number): Promise<void> {
    const thread = threadId ? { message_thread_id: threadId } : {};
    const markup = keyboard(r);
    if (r.image) {
      const [caption, ...rest] = telegramText(r, CAPTION_LIMIT);
      const alone = rest.length === 0;
      await this.call(chatId, () =>
        this.bot.telegram.sendPhoto(
          chatId,
          { source: r.image!.png, filename: r.image!.name },
          {
            caption: caption!,
            parse_mode: 'HTML',
            ...thread,
            ...(alone && markup ? { reply_markup: markup } : {}),
          },
        ),
      );
      if (alone) return;
      // The caption is short: the whole text follows as a message.
      const { image: _sent, ...textOnly } = r;
      r = textOnly;
    }
    const pieces = telegramText(r);
    for (const [i, text] of pieces.entries()) {
      const last = i === pieces.length - 1;
      await this.call(chatId, () =>
        this.bot.telegram.sendMessage(chatId, text, {
          parse_mode: 'HTML',
          ...thread,
          ...(last && markup ? { reply_markup: markup } : {}),
        }),
      );
    }
  }

  /**
   * One API call to a chat, after the chat's gap; a 429 waits its retry_after (up to twice here: beyond that the
   * caller's queue retries later). A permanent refusal becomes Undeliverable.
   */
  private async call<T>(chatId: string, send: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const wait = (this.nextSendAt.get(chatId) ?? 0) - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.nextSendAt.set(chatId, Date.now() + this.options.chatGapMs);
      try {
        return await send();
      } catch (e) {
        const err = e as TelegramErrorLike;
        if (err.code === 429) {
          const afterMs = (err.parameters?.retry_after ?? 5) * 1000;
          this.nextSendAt.set(chatId, Date.now() + afterMs);
          if (attempt >= 2) throw new RetryLater(afterMs, err.description ?? 'Too Many Requests');
          continue;
        }
        if (err.code !== undefined && err.code >= 400 && err.code < 500)
          throw new Undeliverable(`${err.code} ${err.description ?? ''}`.trim());
        throw e;
      }
    }
  }

  private notModified(e: unknown): void {
    // Telegram refuses an edit that changes nothing; the page shown is already right.
    if (!/not modified/.test(String((e as Error).message))) throw e;
  }
}
