import type { MessageEntity } from './entities.js';

export type { MessageEntity } from './entities.js';

/** A person talking to the bot. Private chats have the user's id as chat id. */
export interface FakeTelegramUser {
  readonly id: number;
  readonly first_name: string;
  readonly last_name?: string;
  readonly username?: string;
  readonly language_code?: string;
}

/** Groups have negative ids; supergroups -100xxxxxxxxxx. is_forum makes message_thread_id a topic. */
export interface FakeTelegramChat {
  readonly id: number;
  readonly type: 'private' | 'group' | 'supergroup' | 'channel';
  readonly title?: string;
  readonly username?: string;
  readonly first_name?: string;
  readonly last_name?: string;
  readonly is_forum?: boolean;
}

export interface InlineKeyboardButton {
  readonly text: string;
  readonly callback_data?: string;
  readonly url?: string;
  readonly [field: string]: unknown;
}

/** As the bot sent it (parsed from JSON); only inline keyboards are echoed back in Message objects. */
export interface ReplyMarkup {
  readonly inline_keyboard?: readonly (readonly InlineKeyboardButton[])[];
  readonly [field: string]: unknown;
}

export interface FakeTelegramFile {
  readonly file_id: string;
  readonly file_unique_id: string;
  /** Exactly the uploaded bytes. */
  readonly bytes: Buffer;
  readonly file_name?: string;
  readonly mime_type?: string;
  readonly width?: number;
  readonly height?: number;
}

/** A message the bot sent, with later edits applied. */
export interface FakeTelegramMessage {
  readonly message_id: number;
  readonly chat: FakeTelegramChat;
  /** Unix seconds, as Telegram sends it. */
  readonly date: number;
  /** The API method that created it: sendMessage, sendPhoto, sendDocument. */
  readonly method: string;
  /** After parse_mode processing (tags and escapes removed), as Telegram stores it. */
  readonly text?: string;
  readonly entities?: readonly MessageEntity[];
  readonly caption?: string;
  readonly caption_entities?: readonly MessageEntity[];
  /** What the bot asked for, if anything. */
  readonly parse_mode?: string;
  readonly reply_markup?: ReplyMarkup;
  readonly photo?: FakeTelegramFile;
  readonly document?: FakeTelegramFile;
  readonly message_thread_id?: number;
  readonly reply_to_message_id?: number;
  readonly edit_date?: number;
  readonly deleted: boolean;
}

export interface FakeTelegramCallbackAnswer {
  readonly callback_query_id: string;
  readonly text?: string;
  readonly show_alert: boolean;
  readonly url?: string;
  readonly cache_time?: number;
  /** True when telegraf sent it as the body of the webhook response instead of a request. */
  readonly viaWebhookReply: boolean;
}

export interface FakeTelegramCommand {
  readonly command: string;
  readonly description: string;
}

export interface FakeTelegramChatAction {
  readonly chat_id: number;
  readonly action: string;
  readonly message_thread_id?: number;
}

export interface FakeTelegramOptions {
  /** Default `123456789:AAHfakeTokenForTests_0123456789abcdef`; the bot id is the part before ':'. */
  readonly token?: string;
  /** Default `gridops_test_bot`. */
  readonly botUsername?: string;
  /** Default `GridOps Test`. */
  readonly botFirstName?: string;
  /** Clock for message dates, in ms. */
  readonly now?: () => number;
  /**
   * Telegram raises the timeout of a getUpdates that repeats the previous offset within 3 s to 3 s, so a
   * short-polling client cannot spin. Set 0 to switch it off. Default 3.
   */
  readonly repeatedPollFloorSeconds?: number;
  /** Pause before a failed webhook delivery is retried. Default 200 ms (Telegram backs off far longer). */
  readonly webhookRetryMs?: number;
}

export interface FakeTelegramFailOptions {
  /** Only this method (case-insensitive); by default any method but getUpdates. */
  readonly method?: string;
  readonly parameters?: { readonly retry_after?: number; readonly migrate_to_chat_id?: number };
}

export interface FakeTelegramUserSaysOptions {
  /** Forum topic (sets is_topic_message when the chat is a forum). */
  readonly threadId?: number;
  readonly replyTo?: number;
}

export interface FakeTelegram {
  /** With a trailing slash: telegraf keeps an apiRoot path only when it ends with '/'. */
  readonly apiRoot: string;
  readonly token: string;
  readonly bot: { readonly id: number; readonly username: string; readonly first_name: string };
  /** Makes a chat known without a user writing in it first (otherwise sending to it is "chat not found"). */
  registerChat(chat: FakeTelegramChat): void;
  /**
   * A user writes in a chat: enqueues a `message` update and returns it. `chat` may be a number: the user's id
   * (private chat), a registered chat, or a new group id (-100… makes a supergroup, other negatives a group).
   */
  userSays(
    user: FakeTelegramUser,
    chat: FakeTelegramChat | number,
    text: string,
    options?: FakeTelegramUserSaysOptions,
  ): Record<string, unknown>;
  /**
   * A user presses an inline button under a bot message: enqueues a `callback_query` update and returns the
   * query id. Throws if the message has no button with that callback_data, unless `allowStale` (a client showing
   * an old keyboard).
   */
  userPresses(
    user: FakeTelegramUser,
    chat: FakeTelegramChat | number,
    messageId: number,
    data: string,
    options?: { readonly allowStale?: boolean },
  ): string;
  /** Bot messages in the order they were sent, edits applied, deleted ones flagged. */
  sent(): FakeTelegramMessage[];
  /** The first bot message (already sent, or sent or edited later) that matches. Rejects after timeoutMs. */
  waitForMessage(
    predicate: (m: FakeTelegramMessage) => boolean,
    timeoutMs?: number,
  ): Promise<FakeTelegramMessage>;
  callbackAnswers(): FakeTelegramCallbackAnswer[];
  /** The list set by setMyCommands for a scope (default scope, no language by default); [] if never set. */
  commands(options?: {
    readonly scope?: Record<string, unknown>;
    readonly language_code?: string;
  }): FakeTelegramCommand[];
  chatActions(): FakeTelegramChatAction[];
  /** Requests per method (canonical casing), every answer counted, errors and injected faults included. */
  calls(): Record<string, number>;
  calls(method: string): number;
  /** The next n message-sending calls (send* except sendChatAction) answer 429 with retry_after. */
  floodNext(n: number, retryAfterSeconds: number): void;
  /** How many 429s floodNext has served. */
  flooded(): number;
  /** The next call (see options.method) answers `status` with this description. */
  failNext(status: number, description: string, options?: FakeTelegramFailOptions): void;
  /** Current webhook, or null in polling mode. */
  webhook(): { readonly url: string; readonly secretToken?: string } | null;
  /** Updates not yet confirmed by getUpdates offset or by a 2xx webhook answer. */
  pendingUpdates(): number;
  /** Answers pending long polls with [], stops webhook delivery, rejects waiters, closes the port. */
  close(): Promise<void>;
}
