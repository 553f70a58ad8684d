import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  codePoints,
  EntityParseError,
  type FormattedText,
  type MessageEntity,
  parseFormatted,
  trimFormatted,
} from './entities.js';
import { imageSize, mimeFromName, newFileIds, photoSizes } from './media.js';
import type {
  FakeTelegramCallbackAnswer,
  FakeTelegramChat,
  FakeTelegramChatAction,
  FakeTelegramCommand,
  FakeTelegramFailOptions,
  FakeTelegramFile,
  FakeTelegramMessage,
  FakeTelegramUser,
  FakeTelegramUserSaysOptions,
  InlineKeyboardButton,
  ReplyMarkup,
} from './types.js';

/** Every parameter as the Bot API server sees it: a string (JSON bodies are flattened the same way). */
export type Params = Record<string, string>;

export interface UploadedPart {
  readonly bytes: Buffer;
  readonly filename: string;
}

export interface ApiCall {
  /** As written in the URL or in the webhook reply; matched case-insensitively. */
  readonly method: string;
  readonly params: Params;
  readonly files: ReadonlyMap<string, UploadedPart>;
  readonly viaWebhookReply: boolean;
  /** Lets a long poll learn that its client went away. */
  readonly onHangup?: (listener: () => void) => void;
}

export interface ResponseParameters {
  readonly retry_after?: number;
  readonly migrate_to_chat_id?: number;
}

export type Answer =
  | { readonly ok: true; readonly result: unknown; readonly description?: string }
  | {
      readonly ok: false;
      readonly error_code: number;
      readonly description: string;
      readonly parameters?: ResponseParameters;
    };

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: ResponseParameters,
  ) {
    super(description);
  }
}

function bad(description: string): ApiError {
  return new ApiError(400, `Bad Request: ${description}`);
}

function fail(code: number, description: string, parameters?: ResponseParameters): Answer {
  return parameters === undefined
    ? { ok: false, error_code: code, description }
    : { ok: false, error_code: code, description, parameters };
}

function tooManyRequests(retryAfter: number): Answer {
  return fail(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
}

const NOT_MODIFIED =
  'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';
const CONFLICT_OTHER_POLL =
  'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';
const CONFLICT_WEBHOOK =
  "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
const CONFLICT_SET_WEBHOOK = 'Conflict: terminated by setWebhook request';
const QUERY_INVALID = 'query is too old and response timeout expired or query ID is invalid';

const METHODS = [
  'getMe',
  'getUpdates',
  'setWebhook',
  'deleteWebhook',
  'getWebhookInfo',
  'sendMessage',
  'sendPhoto',
  'sendDocument',
  'editMessageText',
  'editMessageCaption',
  'editMessageReplyMarkup',
  'deleteMessage',
  'answerCallbackQuery',
  'setMyCommands',
  'getMyCommands',
  'deleteMyCommands',
  'sendChatAction',
  'getChat',
  'getFile',
] as const;
type Method = (typeof METHODS)[number];
const BY_LOWER = new Map<string, Method>(METHODS.map((m) => [m.toLowerCase(), m]));

/** Flood control hits message creation; sendChatAction is left out so a "typing" cannot swallow the fault. */
function floodable(m: Method): boolean {
  return m.startsWith('send') && m !== 'sendChatAction';
}

const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

/** Button fields that give an inline button something to do; a button with none is a "text button". */
const BUTTON_ACTIONS = [
  'url',
  'callback_data',
  'login_url',
  'switch_inline_query',
  'switch_inline_query_current_chat',
  'switch_inline_query_chosen_chat',
  'callback_game',
  'pay',
  'web_app',
  'copy_text',
];

/** Telegram's default when allowed_updates is [] or never given. */
const DEFAULT_EXCLUDED_UPDATES = new Set(['chat_member', 'message_reaction', 'message_reaction_count']);

function toBool(v: string | undefined): boolean {
  const s = (v ?? '').trim().toLowerCase();
  return s === 'true' || s === '1' || s === 'yes';
}

/** get_integer_arg: a missing or malformed value is the default, then clamped. */
function intArg(v: string | undefined, fallback: number, min = -Infinity, max = Infinity): number {
  const s = (v ?? '').trim();
  const n = /^[+-]?\d+$/.test(s) ? Number(s) : fallback;
  return Math.min(max, Math.max(min, n));
}

function optionalInt(v: string | undefined): number | undefined {
  const s = (v ?? '').trim();
  return /^[+-]?\d+$/.test(s) ? Number(s) : undefined;
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON with sorted keys, so two markups compare equal whatever order their fields were sent in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v)) {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => v[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

interface StoredFile extends FakeTelegramFile {
  readonly file_path: string;
}

interface MessageRecord {
  readonly message_id: number;
  readonly chat: FakeTelegramChat;
  readonly date: number;
  readonly fromBot: boolean;
  readonly from: Record<string, unknown>;
  readonly method: string;
  text?: string;
  entities?: MessageEntity[];
  caption?: string;
  caption_entities?: MessageEntity[];
  parse_mode?: string;
  reply_markup?: ReplyMarkup;
  photo?: StoredFile;
  photoSizes?: unknown[];
  document?: StoredFile;
  message_thread_id?: number;
  is_topic_message?: boolean;
  reply_to_message_id?: number;
  edit_date?: number;
  deleted: boolean;
}

interface ChatState {
  chat: FakeTelegramChat;
  nextMessageId: number;
  readonly messages: Map<number, MessageRecord>;
}

interface QueuedUpdate {
  readonly update_id: number;
  readonly type: string;
  readonly body: Record<string, unknown>;
}

interface Poll {
  readonly offset: number;
  readonly limit: number;
  readonly resolve: (a: Answer) => void;
  hardTimer: NodeJS.Timeout | null;
  wakeTimer: NodeJS.Timeout | null;
}

interface Webhook {
  readonly url: string;
  readonly secretToken?: string;
  readonly maxConnections: number;
  readonly ipAddress?: string;
  readonly generation: number;
  lastErrorDate?: number;
  lastErrorMessage?: string;
}

interface Fault {
  readonly status: number;
  readonly description: string;
  readonly method?: string;
  readonly parameters?: ResponseParameters;
}

interface Waiter {
  readonly predicate: (m: FakeTelegramMessage) => boolean;
  readonly resolve: (m: FakeTelegramMessage) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface FakeBotApiOptions {
  readonly token: string;
  readonly botUsername: string;
  readonly botFirstName: string;
  readonly now: () => number;
  readonly repeatedPollFloorSeconds: number;
  readonly webhookRetryMs: number;
}

/** The state and methods behind the HTTP surface; server.ts only moves bytes in and out. */
export class FakeBotApi {
  readonly botUser: { id: number; is_bot: true; first_name: string; username: string };
  private readonly chats = new Map<number, ChatState>();
  private readonly botMessages: MessageRecord[] = [];
  private readonly files = new Map<string, StoredFile>();
  private readonly queries = new Map<string, { answered: boolean }>();
  private readonly answers: FakeTelegramCallbackAnswer[] = [];
  private readonly commandSets = new Map<string, FakeTelegramCommand[]>();
  private readonly actions: FakeTelegramChatAction[] = [];
  private readonly callCounts = new Map<string, number>();
  private readonly faults: Fault[] = [];
  private readonly waiters = new Set<Waiter>();
  private floodRemaining = 0;
  private floodRetryAfter = 1;
  private floodHits = 0;
  private queryCounter = 0;
  private fileCounter = 0;

  private queue: QueuedUpdate[] = [];
  private nextUpdateId = 710_000_001;
  private anyQueued = false;
  private allowedUpdates: Set<string> | null = null;
  private poll: Poll | null = null;
  private previousPollOffset = 0;
  private previousPollStart = -Infinity;

  private hook: Webhook | null = null;
  private hookGeneration = 0;
  private nextSetWebhookAt = -Infinity;
  private deliveryAbort: AbortController | null = null;
  private wakeDelivery: (() => void) | null = null;
  private closed = false;

  constructor(private readonly options: FakeBotApiOptions) {
    this.botUser = {
      id: Number(options.token.split(':')[0]),
      is_bot: true,
      first_name: options.botFirstName,
      username: options.botUsername,
    };
  }

  // ---------------------------------------------------------------- dispatch

  async dispatch(call: ApiCall): Promise<Answer> {
    const method = BY_LOWER.get(call.method.toLowerCase());
    this.callCounts.set(method ?? call.method, (this.callCounts.get(method ?? call.method) ?? 0) + 1);
    if (method === undefined) return fail(404, 'Not Found');
    const faultAt = this.faults.findIndex((f) =>
      f.method === undefined ? method !== 'getUpdates' : f.method.toLowerCase() === method.toLowerCase(),
    );
    if (faultAt >= 0) {
      const f = this.faults.splice(faultAt, 1)[0]!;
      return fail(f.status, f.description, f.parameters);
    }
    if (this.floodRemaining > 0 && floodable(method)) {
      this.floodRemaining -= 1;
      this.floodHits += 1;
      return tooManyRequests(this.floodRetryAfter);
    }
    try {
      if (method === 'getUpdates') return await this.getUpdates(call);
      const result = this.handle(method, call);
      return result;
    } catch (e) {
      if (e instanceof ApiError) return fail(e.code, e.description, e.parameters);
      throw e;
    }
  }

  private handle(method: Exclude<Method, 'getUpdates'>, call: ApiCall): Answer {
    const p = call.params;
    const ok = (result: unknown): Answer => ({ ok: true, result });
    switch (method) {
      case 'getMe':
        return ok({
          ...this.botUser,
          can_join_groups: true,
          can_read_all_group_messages: false,
          supports_inline_queries: false,
          can_connect_to_business: false,
          has_main_web_app: false,
        });
      case 'setWebhook':
        return this.setWebhook(p);
      case 'deleteWebhook':
        return this.deleteWebhook(p);
      case 'getWebhookInfo':
        return ok(this.webhookInfo());
      case 'sendMessage':
        return ok(this.sendMessage(p));
      case 'sendPhoto':
        return ok(this.sendMedia('photo', call));
      case 'sendDocument':
        return ok(this.sendMedia('document', call));
      case 'editMessageText':
        return ok(this.editMessageText(p));
      case 'editMessageCaption':
        return ok(this.editMessageCaption(p));
      case 'editMessageReplyMarkup':
        return ok(this.editMessageReplyMarkup(p));
      case 'deleteMessage':
        return ok(this.deleteMessage(p));
      case 'answerCallbackQuery':
        return ok(this.answerCallbackQuery(p, call.viaWebhookReply));
      case 'setMyCommands':
        return ok(this.setMyCommands(p));
      case 'getMyCommands':
        return ok(
          (this.commandSets.get(this.commandKey(p.scope, p.language_code)) ?? []).map((c) => ({ ...c })),
        );
      case 'deleteMyCommands':
        this.commandSets.delete(this.commandKey(p.scope, p.language_code));
        return ok(true);
      case 'sendChatAction':
        return ok(this.sendChatAction(p));
      case 'getChat':
        return ok({ ...this.chatJson(this.chatFor(p.chat_id).chat) });
      case 'getFile':
        return ok(this.getFile(p));
    }
  }

  // ---------------------------------------------------------------- chats and messages

  private chatJson(c: FakeTelegramChat): Record<string, unknown> {
    const out: Record<string, unknown> = { id: c.id };
    if (c.type === 'private') {
      out.first_name = c.first_name ?? '';
      if (c.last_name !== undefined) out.last_name = c.last_name;
      if (c.username !== undefined) out.username = c.username;
    } else {
      out.title = c.title ?? '';
      if (c.username !== undefined) out.username = c.username;
      if (c.is_forum === true) out.is_forum = true;
    }
    out.type = c.type;
    return out;
  }

  /** check_chat: an integer id or @username of a chat the bot can see. */
  private chatFor(raw: string | undefined): ChatState {
    const v = (raw ?? '').trim();
    if (v === '') throw bad('chat_id is empty');
    if (v.startsWith('@')) {
      const name = v.slice(1).toLowerCase();
      for (const s of this.chats.values()) if (s.chat.username?.toLowerCase() === name) return s;
      throw bad('chat not found');
    }
    const id = optionalInt(v);
    const state = id === undefined ? undefined : this.chats.get(id);
    if (state === undefined) throw bad('chat not found');
    return state;
  }

  private ensureChat(chat: FakeTelegramChat): ChatState {
    const existing = this.chats.get(chat.id);
    if (existing !== undefined) {
      existing.chat = chat;
      return existing;
    }
    const state: ChatState = { chat, nextMessageId: 1, messages: new Map() };
    this.chats.set(chat.id, state);
    return state;
  }

  private nowSeconds(): number {
    return Math.floor(this.options.now() / 1000);
  }

  private messageJson(rec: MessageRecord, withReply = true): Record<string, unknown> {
    const m: Record<string, unknown> = {
      message_id: rec.message_id,
      from: { ...rec.from },
      chat: this.chatJson(rec.chat),
      date: rec.date,
    };
    if (rec.message_thread_id !== undefined) {
      m.message_thread_id = rec.message_thread_id;
      if (rec.is_topic_message === true) m.is_topic_message = true;
    }
    if (withReply && rec.reply_to_message_id !== undefined) {
      const target = this.chats.get(rec.chat.id)?.messages.get(rec.reply_to_message_id);
      if (target !== undefined && !target.deleted) m.reply_to_message = this.messageJson(target, false);
    }
    if (rec.edit_date !== undefined) m.edit_date = rec.edit_date;
    if (rec.text !== undefined) {
      m.text = rec.text;
      if (rec.entities !== undefined && rec.entities.length > 0)
        m.entities = rec.entities.map((e) => ({ ...e }));
    }
    if (rec.photoSizes !== undefined) m.photo = rec.photoSizes;
    if (rec.document !== undefined) {
      m.document = {
        file_name: rec.document.file_name,
        mime_type: rec.document.mime_type,
        file_id: rec.document.file_id,
        file_unique_id: rec.document.file_unique_id,
        file_size: rec.document.bytes.length,
      };
    }
    if (rec.caption !== undefined && rec.caption !== '') {
      m.caption = rec.caption;
      if (rec.caption_entities !== undefined && rec.caption_entities.length > 0) {
        m.caption_entities = rec.caption_entities.map((e) => ({ ...e }));
      }
    }
    if (rec.reply_markup?.inline_keyboard !== undefined) {
      m.reply_markup = { inline_keyboard: rec.reply_markup.inline_keyboard };
    }
    return m;
  }

  private snapshot(rec: MessageRecord): FakeTelegramMessage {
    const s: Record<string, unknown> = {
      message_id: rec.message_id,
      chat: { ...rec.chat },
      date: rec.date,
      method: rec.method,
      deleted: rec.deleted,
    };
    const optional = {
      text: rec.text,
      entities: rec.entities?.map((e) => ({ ...e })),
      caption: rec.caption,
      caption_entities: rec.caption_entities?.map((e) => ({ ...e })),
      parse_mode: rec.parse_mode,
      reply_markup: rec.reply_markup,
      photo: rec.photo,
      document: rec.document,
      message_thread_id: rec.message_thread_id,
      reply_to_message_id: rec.reply_to_message_id,
      edit_date: rec.edit_date,
    };
    for (const [k, v] of Object.entries(optional)) if (v !== undefined) s[k] = v;
    return s as unknown as FakeTelegramMessage;
  }

  private formatted(
    text: string,
    parseMode: string | undefined,
    entitiesJson: string | undefined,
  ): FormattedText {
    const mode = (parseMode ?? '').trim();
    if (mode !== '') {
      try {
        const parsed = parseFormatted(text, mode);
        if (parsed === null) throw bad('unsupported parse_mode');
        return parsed;
      } catch (e) {
        if (e instanceof EntityParseError) throw bad(`can't parse entities: ${e.message}`);
        throw e;
      }
    }
    if (entitiesJson !== undefined && entitiesJson !== '') {
      const list = parseJson(entitiesJson);
      if (!Array.isArray(list)) throw bad("can't parse entities JSON object");
      const entities: MessageEntity[] = [];
      for (const e of list) {
        if (
          !isObject(e) ||
          typeof e.type !== 'string' ||
          typeof e.offset !== 'number' ||
          typeof e.length !== 'number'
        ) {
          throw bad("can't parse MessageEntity JSON object");
        }
        entities.push(e as unknown as MessageEntity);
      }
      return { text, entities };
    }
    return { text, entities: [] };
  }

  /** get_reply_markup: structural checks the Bot API server makes before anything reaches Telegram. */
  private replyMarkup(raw: string | undefined): ReplyMarkup | undefined {
    if (raw === undefined || raw.trim() === '') return undefined;
    const markup = parseJson(raw);
    if (!isObject(markup)) throw bad("can't parse reply keyboard markup JSON object");
    if (markup.inline_keyboard === undefined) return markup as ReplyMarkup;
    const rows = markup.inline_keyboard;
    if (!Array.isArray(rows) || !rows.every(Array.isArray)) {
      throw bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays');
    }
    for (const row of rows as unknown[][]) {
      for (const button of row) {
        if (!isObject(button))
          throw bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object");
        if (typeof button.text !== 'string') {
          throw bad(`can't parse inline keyboard button: Field "text" must be of type String`);
        }
        if (button.callback_data !== undefined && typeof button.callback_data !== 'string') {
          throw bad(`can't parse inline keyboard button: Field "callback_data" must be of type String`);
        }
        if (!BUTTON_ACTIONS.some((f) => button[f] !== undefined)) {
          throw bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
        }
      }
    }
    return markup as ReplyMarkup;
  }

  /** Telegram itself (not the Bot API server) rejects callback_data outside 1-64 bytes. */
  private checkButtonData(markup: ReplyMarkup | undefined): void {
    for (const row of markup?.inline_keyboard ?? []) {
      for (const b of row) {
        if (b.callback_data === undefined) continue;
        const size = Buffer.byteLength(b.callback_data, 'utf8');
        if (size < 1 || size > 64) throw bad('BUTTON_DATA_INVALID');
      }
    }
  }

  private replyTarget(state: ChatState, p: Params): number | undefined {
    let id = optionalInt(p.reply_to_message_id);
    let allowMissing = toBool(p.allow_sending_without_reply);
    if (p.reply_parameters !== undefined && p.reply_parameters !== '') {
      const rp = parseJson(p.reply_parameters);
      if (!isObject(rp) || typeof rp.message_id !== 'number')
        throw bad("can't parse ReplyParameters JSON object");
      id = rp.message_id;
      allowMissing = rp.allow_sending_without_reply === true;
    }
    if (id === undefined || id === 0) return undefined;
    const target = state.messages.get(id);
    if (target === undefined || target.deleted) {
      if (allowMissing) return undefined;
      throw bad('message to be replied not found');
    }
    return id;
  }

  private store(
    state: ChatState,
    method: string,
    fill: Partial<MessageRecord>,
    threadId: number | undefined,
  ): MessageRecord {
    const rec: MessageRecord = {
      message_id: state.nextMessageId++,
      chat: state.chat,
      date: this.nowSeconds(),
      fromBot: true,
      from: { ...this.botUser },
      method,
      deleted: false,
      ...fill,
    };
    if (threadId !== undefined && threadId !== 0) {
      rec.message_thread_id = threadId;
      if (state.chat.is_forum === true) rec.is_topic_message = true;
    }
    state.messages.set(rec.message_id, rec);
    this.botMessages.push(rec);
    this.notify(rec);
    return rec;
  }

  private sendMessage(p: Params): Record<string, unknown> {
    const raw = p.text ?? '';
    if (raw === '') throw bad('message text is empty');
    const formatted = this.formatted(raw, p.parse_mode, p.entities);
    const markup = this.replyMarkup(p.reply_markup);
    const state = this.chatFor(p.chat_id);
    const replyTo = this.replyTarget(state, p);
    const text = trimFormatted(formatted);
    if (text.text === '') throw bad('message text is empty');
    if (codePoints(text.text) > 4096) throw bad('message is too long');
    this.checkButtonData(markup);
    const fill: Partial<MessageRecord> = { text: text.text, entities: text.entities };
    if (p.parse_mode !== undefined && p.parse_mode !== '') fill.parse_mode = p.parse_mode;
    if (markup !== undefined) fill.reply_markup = markup;
    if (replyTo !== undefined) fill.reply_to_message_id = replyTo;
    return this.messageJson(this.store(state, 'sendMessage', fill, optionalInt(p.message_thread_id)));
  }

  /** The file of a send: an uploaded part under the field name, attach://<part>, or a known file_id. */
  private inputFile(kind: 'photo' | 'document', call: ApiCall): { part?: UploadedPart; known?: StoredFile } {
    const part = call.files.get(kind);
    if (part !== undefined) return { part };
    const v = (call.params[kind] ?? '').trim();
    if (v === '') throw bad(`there is no ${kind} in the request`);
    if (v.startsWith('attach://')) {
      const attached = call.files.get(v.slice('attach://'.length));
      if (attached === undefined)
        throw bad(`file "${v.slice('attach://'.length)}" must be uploaded as a file`);
      return { part: attached };
    }
    const known = this.files.get(v);
    if (known === undefined) throw bad('wrong file identifier/HTTP URL specified');
    return { known };
  }

  private newFile(bytes: Buffer, extra: Partial<StoredFile>, folder: string): StoredFile {
    this.fileCounter += 1;
    const ext = /\.([a-z0-9]+)$/i.exec(extra.file_name ?? '')?.[1] ?? (folder === 'photos' ? 'jpg' : 'dat');
    const file: StoredFile = {
      ...newFileIds(),
      bytes,
      file_path: `${folder}/file_${this.fileCounter}.${ext}`,
      ...extra,
    };
    this.files.set(file.file_id, file);
    return file;
  }

  private sendMedia(kind: 'photo' | 'document', call: ApiCall): Record<string, unknown> {
    const p = call.params;
    const input = this.inputFile(kind, call);
    const caption = this.formatted(p.caption ?? '', p.parse_mode, p.caption_entities);
    const markup = this.replyMarkup(p.reply_markup);
    const state = this.chatFor(p.chat_id);
    const replyTo = this.replyTarget(state, p);
    const fill: Partial<MessageRecord> = {};
    if (kind === 'photo') {
      const bytes = input.part?.bytes ?? input.known!.bytes;
      const size = imageSize(bytes);
      if (size === null) throw bad('IMAGE_PROCESS_FAILED');
      const { width, height } = size;
      if (width + height > 10000 || Math.max(width, height) / Math.max(1, Math.min(width, height)) > 20) {
        throw bad('PHOTO_INVALID_DIMENSIONS');
      }
      const file = input.known ?? this.newFile(bytes, { width, height }, 'photos');
      fill.photo = file;
      fill.photoSizes = photoSizes(width, height, bytes.length, () => {
        const ids = newFileIds();
        this.files.set(ids.file_id, { ...file, ...ids });
        return ids;
      });
    } else {
      let file = input.known;
      if (file === undefined) {
        const part = input.part!;
        if (part.bytes.length === 0) throw bad('file must be non-empty');
        const name = part.filename === '' ? 'document' : part.filename;
        file = this.newFile(part.bytes, { file_name: name, mime_type: mimeFromName(name) }, 'documents');
      }
      fill.document = file;
    }
    const trimmed = trimFormatted(caption);
    if (codePoints(trimmed.text) > 1024) throw bad('message caption is too long');
    this.checkButtonData(markup);
    if (trimmed.text !== '') {
      fill.caption = trimmed.text;
      fill.caption_entities = trimmed.entities;
    }
    if (p.parse_mode !== undefined && p.parse_mode !== '') fill.parse_mode = p.parse_mode;
    if (markup !== undefined) fill.reply_markup = markup;
    if (replyTo !== undefined) fill.reply_to_message_id = replyTo;
    const method = kind === 'photo' ? 'sendPhoto' : 'sendDocument';
    return this.messageJson(this.store(state, method, fill, optionalInt(p.message_thread_id)));
  }

  private editTarget(p: Params): MessageRecord {
    if ((p.inline_message_id ?? '') !== '') throw bad('MESSAGE_ID_INVALID');
    const state = this.chatFor(p.chat_id);
    const rec = state.messages.get(intArg(p.message_id, 0));
    if (rec === undefined || rec.deleted) throw bad('message to edit not found');
    if (!rec.fromBot) throw bad("message can't be edited");
    return rec;
  }

  /** Only inline keyboards survive an edit; no reply_markup removes the keyboard. */
  private editMarkup(raw: string | undefined): ReplyMarkup | undefined {
    const markup = this.replyMarkup(raw);
    return markup?.inline_keyboard === undefined ? undefined : { inline_keyboard: markup.inline_keyboard };
  }

  private sameMarkup(a: ReplyMarkup | undefined, b: ReplyMarkup | undefined): boolean {
    return canonical(a?.inline_keyboard ?? null) === canonical(b?.inline_keyboard ?? null);
  }

  private applyEdit(
    rec: MessageRecord,
    change: Partial<MessageRecord>,
    markup: ReplyMarkup | undefined,
  ): void {
    // A content edit replaces the formatting wholesale; a markup-only edit leaves it alone.
    if ('text' in change || 'caption' in change) delete rec.parse_mode;
    Object.assign(rec, change);
    if (markup === undefined) delete rec.reply_markup;
    else rec.reply_markup = markup;
    rec.edit_date = this.nowSeconds();
    this.notify(rec);
  }

  private editMessageText(p: Params): Record<string, unknown> {
    const raw = p.text ?? '';
    if (raw === '') throw bad('message text is empty');
    const formatted = this.formatted(raw, p.parse_mode, p.entities);
    const markup = this.editMarkup(p.reply_markup);
    const rec = this.editTarget(p);
    if (rec.text === undefined) throw bad('there is no text in the message to edit');
    const text = trimFormatted(formatted);
    if (text.text === '') throw bad('message text is empty');
    if (codePoints(text.text) > 4096) throw bad('message is too long');
    this.checkButtonData(markup);
    if (
      text.text === rec.text &&
      canonical(text.entities) === canonical(rec.entities ?? []) &&
      this.sameMarkup(markup, rec.reply_markup)
    ) {
      throw bad(NOT_MODIFIED);
    }
    const change: Partial<MessageRecord> = { text: text.text, entities: text.entities };
    if (p.parse_mode !== undefined && p.parse_mode !== '') change.parse_mode = p.parse_mode;
    this.applyEdit(rec, change, markup);
    return this.messageJson(rec);
  }

  private editMessageCaption(p: Params): Record<string, unknown> {
    const caption = this.formatted(p.caption ?? '', p.parse_mode, p.caption_entities);
    const markup = this.editMarkup(p.reply_markup);
    const rec = this.editTarget(p);
    if (rec.text !== undefined) throw bad('there is no caption in the message to edit');
    const trimmed = trimFormatted(caption);
    if (codePoints(trimmed.text) > 1024) throw bad('message caption is too long');
    this.checkButtonData(markup);
    if (
      trimmed.text === (rec.caption ?? '') &&
      canonical(trimmed.entities) === canonical(rec.caption_entities ?? []) &&
      this.sameMarkup(markup, rec.reply_markup)
    ) {
      throw bad(NOT_MODIFIED);
    }
    const change: Partial<MessageRecord> = { caption: trimmed.text, caption_entities: trimmed.entities };
    if (p.parse_mode !== undefined && p.parse_mode !== '') change.parse_mode = p.parse_mode;
    this.applyEdit(rec, change, markup);
    return this.messageJson(rec);
  }

  private editMessageReplyMarkup(p: Params): Record<string, unknown> {
    const markup = this.editMarkup(p.reply_markup);
    const rec = this.editTarget(p);
    this.checkButtonData(markup);
    if (this.sameMarkup(markup, rec.reply_markup)) throw bad(NOT_MODIFIED);
    this.applyEdit(rec, {}, markup);
    return this.messageJson(rec);
  }

  private deleteMessage(p: Params): boolean {
    const state = this.chatFor(p.chat_id);
    const rec = state.messages.get(intArg(p.message_id, 0));
    if (rec === undefined || rec.deleted) throw bad('message to delete not found');
    rec.deleted = true;
    this.notify(rec);
    return true;
  }

  private answerCallbackQuery(p: Params, viaWebhookReply: boolean): boolean {
    const id = (p.callback_query_id ?? '').trim();
    const text = p.text;
    if (text !== undefined && codePoints(text) > 200) throw bad('MESSAGE_TOO_LONG');
    const query = this.queries.get(id);
    if (query === undefined || query.answered) throw bad(QUERY_INVALID);
    query.answered = true;
    const answer: Record<string, unknown> = {
      callback_query_id: id,
      show_alert: toBool(p.show_alert),
      viaWebhookReply,
    };
    if (text !== undefined && text !== '') answer.text = text;
    if (p.url !== undefined && p.url !== '') answer.url = p.url;
    const cache = optionalInt(p.cache_time);
    if (cache !== undefined) answer.cache_time = cache;
    this.answers.push(answer as unknown as FakeTelegramCallbackAnswer);
    return true;
  }

  private commandKey(scopeRaw: string | undefined, languageRaw: string | undefined): string {
    const language = (languageRaw ?? '').trim();
    if (language !== '' && !/^[a-z]{2}$/i.test(language)) throw bad('invalid language code specified');
    let scope: unknown = { type: 'default' };
    if (scopeRaw !== undefined && scopeRaw.trim() !== '') {
      scope = parseJson(scopeRaw);
      if (!isObject(scope) || typeof scope.type !== 'string')
        throw bad("can't parse BotCommandScope JSON object");
    }
    return `${canonical(scope)}|${language.toLowerCase()}`;
  }

  private setMyCommands(p: Params): boolean {
    const key = this.commandKey(p.scope, p.language_code);
    const raw = (p.commands ?? '').trim();
    const list = raw === '' ? [] : parseJson(raw);
    if (!Array.isArray(list)) throw bad("can't parse commands JSON object");
    const commands: FakeTelegramCommand[] = [];
    for (const item of list) {
      if (!isObject(item) || typeof item.command !== 'string' || typeof item.description !== 'string') {
        throw bad("can't parse BotCommand JSON object");
      }
      // TDLib (BotCommands.cpp) trims, drops one leading '/', and checks lengths in code points.
      let command = item.command.trim();
      if (command.startsWith('/')) command = command.slice(1);
      if (command === '') throw bad('command must be non-empty');
      if (codePoints(command) > 32) throw bad('command length must not exceed 32');
      const description = item.description.trim();
      if (description === '') throw bad('command description must be non-empty');
      if (codePoints(description) > 256) throw bad('command description length must not exceed 256');
      commands.push({ command, description });
    }
    // The server-side checks come after TDLib's.
    if (commands.length > 100) throw bad('BOT_COMMANDS_TOO_MUCH');
    if (commands.some((c) => !/^[a-z0-9_]{1,32}$/.test(c.command))) throw bad('BOT_COMMAND_INVALID');
    if (commands.length === 0) this.commandSets.delete(key);
    else this.commandSets.set(key, commands);
    return true;
  }

  private sendChatAction(p: Params): boolean {
    const state = this.chatFor(p.chat_id);
    const action = (p.action ?? '').trim().toLowerCase();
    if (!CHAT_ACTIONS.has(action)) throw bad('wrong parameter action in request');
    const thread = optionalInt(p.message_thread_id);
    this.actions.push(
      thread === undefined
        ? { chat_id: state.chat.id, action }
        : { chat_id: state.chat.id, action, message_thread_id: thread },
    );
    return true;
  }

  private getFile(p: Params): Record<string, unknown> {
    const file = this.files.get((p.file_id ?? '').trim());
    if (file === undefined) throw bad('invalid file_id');
    return {
      file_id: file.file_id,
      file_unique_id: file.file_unique_id,
      file_size: file.bytes.length,
      file_path: file.file_path,
    };
  }

  /** For GET /file/bot<token>/<file_path>. */
  fileByPath(path: string): Buffer | undefined {
    for (const f of this.files.values()) if (f.file_path === path) return f.bytes;
    return undefined;
  }

  // ---------------------------------------------------------------- updates and long polling

  private enqueue(type: string, payload: Record<string, unknown>): Record<string, unknown> {
    const update_id = this.nextUpdateId++;
    const body = { update_id, [type]: payload };
    const allowed = this.allowedUpdates;
    const wanted = allowed === null ? !DEFAULT_EXCLUDED_UPDATES.has(type) : allowed.has(type);
    if (!wanted) return structuredClone(body);
    this.anyQueued = true;
    this.queue.push({ update_id, type, body });
    if (this.hook !== null) this.wakeDelivery?.();
    else if (this.poll !== null && this.poll.wakeTimer === null) {
      const poll = this.poll;
      // Telegram answers a woken long poll 1-2 ms later so a burst of updates leaves in one batch.
      poll.wakeTimer = setTimeout(() => this.finishPoll(poll), 1);
    }
    return structuredClone(body);
  }

  /** do_get_updates: confirm everything below offset and return up to limit of what is left. */
  private take(offset: number, limit: number): Record<string, unknown>[] {
    if (!this.anyQueued) return [];
    const head = this.queue[0]?.update_id ?? this.nextUpdateId;
    const tail = this.nextUpdateId;
    let from = offset;
    if (from <= 0) {
      if (this.queue.length > 0 && from < 0) from += tail;
      if (from < head) from = head;
    }
    // An offset past the end is invalid for Telegram's queue, which then reads from its head.
    if (from > tail) from = head;
    this.queue = this.queue.filter((u) => u.update_id >= from);
    return this.queue.slice(0, limit).map((u) => structuredClone(u.body));
  }

  private setAllowedUpdates(raw: string | undefined): void {
    if (raw === undefined || raw.trim() === '') return;
    const list = parseJson(raw);
    if (!Array.isArray(list)) return;
    const types = list.filter((t): t is string => typeof t === 'string');
    this.allowedUpdates = types.length === 0 ? null : new Set(types);
  }

  private async getUpdates(call: ApiCall): Promise<Answer> {
    if (this.hook !== null) return fail(409, CONFLICT_WEBHOOK);
    const p = call.params;
    const offset = intArg(p.offset, 0);
    const limit = intArg(p.limit, 100, 1, 100);
    let timeout = intArg(p.timeout, 0, 0, 50);
    this.setAllowedUpdates(p.allowed_updates);
    const floor = this.options.repeatedPollFloorSeconds;
    const t = performance.now();
    if (offset === this.previousPollOffset && timeout < floor && t < this.previousPollStart + floor * 1000) {
      timeout = floor;
    }
    this.previousPollOffset = offset;
    this.previousPollStart = t;

    const updates = this.take(offset, limit);
    if (timeout === 0 || updates.length > 0 || this.closed) return { ok: true, result: updates };
    // The newer poll wins: the one already waiting is the one told it was terminated.
    this.abortPoll(CONFLICT_OTHER_POLL);
    return new Promise<Answer>((resolve) => {
      const poll: Poll = { offset, limit, resolve, hardTimer: null, wakeTimer: null };
      poll.hardTimer = setTimeout(() => this.finishPoll(poll), timeout * 1000);
      this.poll = poll;
      call.onHangup?.(() => {
        if (this.poll !== poll) return;
        this.clearPoll(poll);
        resolve({ ok: true, result: [] });
      });
    });
  }

  private clearPoll(poll: Poll): void {
    if (poll.hardTimer !== null) clearTimeout(poll.hardTimer);
    if (poll.wakeTimer !== null) clearTimeout(poll.wakeTimer);
    if (this.poll === poll) this.poll = null;
  }

  private finishPoll(poll: Poll): void {
    if (this.poll !== poll) return;
    this.clearPoll(poll);
    poll.resolve({ ok: true, result: this.closed ? [] : this.take(poll.offset, poll.limit) });
  }

  private abortPoll(description: string): void {
    const poll = this.poll;
    if (poll === null) return;
    this.clearPoll(poll);
    poll.resolve(fail(409, description));
  }

  // ---------------------------------------------------------------- webhook

  private setWebhook(p: Params): Answer {
    const url = (p.url ?? '').trim();
    if (url === '') return this.deleteWebhook(p);
    const t = performance.now();
    if (t < this.nextSetWebhookAt) return tooManyRequests(1);
    this.nextSetWebhookAt = t + 1000;
    const secret = p.secret_token;
    if (secret !== undefined && secret !== '') {
      if (secret.length > 256) throw bad('secret token is too long');
      if (!/^[A-Za-z0-9_-]+$/.test(secret)) throw bad('secret token contains unallowed characters');
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw bad('invalid webhook URL specified');
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
      throw bad('invalid webhook URL specified');
    const maxConnections = intArg(p.max_connections, 40, 1, 100);
    const drop = toBool(p.drop_pending_updates);
    this.setAllowedUpdates(p.allowed_updates);
    const current = this.hook;
    if (
      current !== null &&
      current.url === url &&
      (current.secretToken ?? '') === (secret ?? '') &&
      current.maxConnections === maxConnections &&
      !drop
    ) {
      return { ok: true, result: true, description: 'Webhook is already set' };
    }
    this.abortPoll(CONFLICT_SET_WEBHOOK);
    if (drop) this.queue = [];
    this.stopDelivery();
    this.hookGeneration += 1;
    const hook: Webhook = {
      url,
      maxConnections,
      generation: this.hookGeneration,
      ...(secret !== undefined && secret !== '' ? { secretToken: secret } : {}),
      ...(p.ip_address !== undefined && p.ip_address !== '' ? { ipAddress: p.ip_address } : {}),
    };
    this.hook = hook;
    void this.deliver(hook);
    return { ok: true, result: true, description: 'Webhook was set' };
  }

  private deleteWebhook(p: Params): Answer {
    if (toBool(p.drop_pending_updates)) this.queue = [];
    if (this.hook === null) return { ok: true, result: true, description: 'Webhook is already deleted' };
    this.hook = null;
    this.hookGeneration += 1;
    this.stopDelivery();
    return { ok: true, result: true, description: 'Webhook was deleted' };
  }

  private webhookInfo(): Record<string, unknown> {
    const info: Record<string, unknown> = {
      url: this.hook?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: this.queue.length,
    };
    const h = this.hook;
    if (h !== null) {
      info.max_connections = h.maxConnections;
      if (h.ipAddress !== undefined) info.ip_address = h.ipAddress;
      if (h.lastErrorDate !== undefined) {
        info.last_error_date = h.lastErrorDate;
        info.last_error_message = h.lastErrorMessage;
      }
      if (this.allowedUpdates !== null) info.allowed_updates = [...this.allowedUpdates];
    }
    return info;
  }

  private stopDelivery(): void {
    this.deliveryAbort?.abort();
    this.deliveryAbort = null;
    this.wakeDelivery?.();
  }

  /** Posts queued updates one at a time, in order; a 2xx answer confirms the update. */
  private async deliver(hook: Webhook): Promise<void> {
    const live = () => !this.closed && this.hook === hook;
    while (live()) {
      const update = this.queue[0];
      if (update === undefined) {
        let wake: () => void = () => undefined;
        const idle = new Promise<void>((resolve) => {
          wake = resolve;
        });
        this.wakeDelivery = wake;
        await idle;
        // A replaced webhook's loop wakes after the new loop has parked: leave the new loop's wake-up alone.
        if (this.wakeDelivery === wake) this.wakeDelivery = null;
        continue;
      }
      const abort = new AbortController();
      this.deliveryAbort = abort;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (hook.secretToken !== undefined) headers['x-telegram-bot-api-secret-token'] = hook.secretToken;
      let error: string | null = null;
      try {
        const res = await fetch(hook.url, {
          method: 'POST',
          headers,
          body: JSON.stringify(update.body),
          signal: abort.signal,
        });
        const body = Buffer.from(await res.arrayBuffer());
        if (!live()) return;
        if (res.ok) {
          this.queue = this.queue.filter((u) => u.update_id !== update.update_id);
          await this.runWebhookReply(res.headers.get('content-type') ?? '', body);
        } else {
          error = `Wrong response from the webhook: ${res.status} ${res.statusText}`;
        }
      } catch (e) {
        if (!live()) return;
        const cause = (e as { cause?: { code?: string } }).cause;
        error = cause?.code === 'ECONNREFUSED' ? 'Connection refused' : String((e as Error).message);
      } finally {
        if (this.deliveryAbort === abort) this.deliveryAbort = null;
      }
      if (error !== null) {
        hook.lastErrorDate = this.nowSeconds();
        hook.lastErrorMessage = error;
        const pause = new AbortController();
        this.deliveryAbort = pause;
        await sleep(this.options.webhookRetryMs, undefined, { signal: pause.signal }).catch(() => undefined);
        if (this.deliveryAbort === pause) this.deliveryAbort = null;
      }
    }
  }

  /** A method in the webhook response body runs as if requested; its result goes nowhere, as with Telegram. */
  private async runWebhookReply(contentType: string, body: Buffer): Promise<void> {
    if (body.length === 0) return;
    let params: Params = {};
    let files = new Map<string, UploadedPart>();
    if (contentType.includes('multipart/form-data')) {
      ({ params, files } = await parseMultipart(contentType, body));
    } else {
      const json = parseJson(body.toString('utf8'));
      if (!isObject(json)) return;
      params = flattenJson(json);
    }
    const method = params.method;
    if (method === undefined) return;
    const { method: _, ...rest } = params;
    await this.dispatch({ method, params: rest, files, viaWebhookReply: true });
  }

  // ---------------------------------------------------------------- driver

  private userJson(u: FakeTelegramUser): Record<string, unknown> {
    const out: Record<string, unknown> = { id: u.id, is_bot: false, first_name: u.first_name };
    if (u.last_name !== undefined) out.last_name = u.last_name;
    if (u.username !== undefined) out.username = u.username;
    if (u.language_code !== undefined) out.language_code = u.language_code;
    return out;
  }

  private driverChat(user: FakeTelegramUser, chat: FakeTelegramChat | number): ChatState {
    if (typeof chat !== 'number') {
      if (chat.type === 'private' && chat.id !== user.id) {
        throw new Error(`fake telegram: private chat ${chat.id} belongs to user ${chat.id}, not ${user.id}`);
      }
      return this.ensureChat(chat);
    }
    if (chat > 0) {
      if (chat !== user.id)
        throw new Error(`fake telegram: private chat id must be the user id (${user.id})`);
      const existing = this.chats.get(chat);
      if (existing !== undefined) return existing;
      const c: Record<string, unknown> = { id: user.id, type: 'private', first_name: user.first_name };
      if (user.last_name !== undefined) c.last_name = user.last_name;
      if (user.username !== undefined) c.username = user.username;
      return this.ensureChat(c as unknown as FakeTelegramChat);
    }
    const existing = this.chats.get(chat);
    if (existing !== undefined) return existing;
    const supergroup = chat <= -1_000_000_000_000;
    return this.ensureChat({
      id: chat,
      type: supergroup ? 'supergroup' : 'group',
      title: `Test ${supergroup ? 'supergroup' : 'group'} ${-chat}`,
    });
  }

  registerChat(chat: FakeTelegramChat): void {
    this.ensureChat(chat);
  }

  userSays(
    user: FakeTelegramUser,
    chat: FakeTelegramChat | number,
    text: string,
    options: FakeTelegramUserSaysOptions = {},
  ): Record<string, unknown> {
    const state = this.driverChat(user, chat);
    const rec: MessageRecord = {
      message_id: state.nextMessageId++,
      chat: state.chat,
      date: this.nowSeconds(),
      fromBot: false,
      from: this.userJson(user),
      method: 'user',
      text,
      deleted: false,
    };
    const command = /^\/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{1,32})?/.exec(text);
    if (command !== null) rec.entities = [{ type: 'bot_command', offset: 0, length: command[0].length }];
    if (options.threadId !== undefined) {
      rec.message_thread_id = options.threadId;
      if (state.chat.is_forum === true) rec.is_topic_message = true;
    }
    if (options.replyTo !== undefined) {
      if (!state.messages.has(options.replyTo)) {
        throw new Error(`fake telegram: no message ${options.replyTo} in chat ${state.chat.id} to reply to`);
      }
      rec.reply_to_message_id = options.replyTo;
    }
    state.messages.set(rec.message_id, rec);
    return this.enqueue('message', this.messageJson(rec));
  }

  userPresses(
    user: FakeTelegramUser,
    chat: FakeTelegramChat | number,
    messageId: number,
    data: string,
    options: { readonly allowStale?: boolean } = {},
  ): string {
    const state = this.driverChat(user, chat);
    const rec = state.messages.get(messageId);
    if (rec === undefined || rec.deleted || !rec.fromBot) {
      throw new Error(
        `fake telegram: no bot message ${messageId} in chat ${state.chat.id} to press a button on`,
      );
    }
    const buttons = (rec.reply_markup?.inline_keyboard ?? []).flat();
    if (options.allowStale !== true && !buttons.some((b: InlineKeyboardButton) => b.callback_data === data)) {
      throw new Error(
        `fake telegram: message ${messageId} has no button with callback_data ${JSON.stringify(data)} ` +
          `(has ${JSON.stringify(buttons.map((b) => b.callback_data))})`,
      );
    }
    this.queryCounter += 1;
    const id = String(4_612_000_000_000_000_000n + BigInt(this.queryCounter));
    this.queries.set(id, { answered: false });
    const chatInstance = String(BigInt.asUintN(62, BigInt(state.chat.id) * 2_654_435_761n));
    this.enqueue('callback_query', {
      id,
      from: this.userJson(user),
      message: this.messageJson(rec),
      chat_instance: chatInstance,
      data,
    });
    return id;
  }

  sent(): FakeTelegramMessage[] {
    return this.botMessages.map((m) => this.snapshot(m));
  }

  waitForMessage(
    predicate: (m: FakeTelegramMessage) => boolean,
    timeoutMs: number,
  ): Promise<FakeTelegramMessage> {
    const found = this.botMessages.map((m) => this.snapshot(m)).find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    if (this.closed) return Promise.reject(new Error('fake telegram: closed'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          const seen = this.botMessages.map((m) => ({
            chat: m.chat.id,
            id: m.message_id,
            text: m.text ?? m.caption ?? `(${m.method})`,
          }));
          reject(
            new Error(
              `fake telegram: no matching bot message within ${timeoutMs} ms; sent: ${JSON.stringify(seen)}`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  private notify(rec: MessageRecord): void {
    if (this.waiters.size === 0) return;
    const snap = this.snapshot(rec);
    for (const w of [...this.waiters]) {
      if (!w.predicate(snap)) continue;
      clearTimeout(w.timer);
      this.waiters.delete(w);
      w.resolve(snap);
    }
  }

  callbackAnswers(): FakeTelegramCallbackAnswer[] {
    return this.answers.map((a) => ({ ...a }));
  }

  commands(scope?: Record<string, unknown>, languageCode?: string): FakeTelegramCommand[] {
    const key = this.commandKey(scope === undefined ? undefined : JSON.stringify(scope), languageCode);
    return (this.commandSets.get(key) ?? []).map((c) => ({ ...c }));
  }

  chatActions(): FakeTelegramChatAction[] {
    return this.actions.map((a) => ({ ...a }));
  }

  calls(method?: string): number | Record<string, number> {
    if (method === undefined) return Object.fromEntries(this.callCounts);
    const name = BY_LOWER.get(method.toLowerCase()) ?? method;
    return this.callCounts.get(name) ?? 0;
  }

  floodNext(n: number, retryAfterSeconds: number): void {
    this.floodRemaining = n;
    this.floodRetryAfter = retryAfterSeconds;
  }

  flooded(): number {
    return this.floodHits;
  }

  failNext(status: number, description: string, options: FakeTelegramFailOptions = {}): void {
    this.faults.push({
      status,
      description,
      ...(options.method !== undefined ? { method: options.method } : {}),
      ...(options.parameters !== undefined ? { parameters: options.parameters } : {}),
    });
  }

  webhook(): { url: string; secretToken?: string } | null {
    const h = this.hook;
    if (h === null) return null;
    return h.secretToken === undefined ? { url: h.url } : { url: h.url, secretToken: h.secretToken };
  }

  pendingUpdates(): number {
    return this.queue.length;
  }

  shutdown(): void {
    this.closed = true;
    const poll = this.poll;
    if (poll !== null) {
      this.clearPoll(poll);
      poll.resolve({ ok: true, result: [] });
    }
    this.stopDelivery();
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error('fake telegram: closed before a matching bot message'));
    }
    this.waiters.clear();
  }
}

/** JSON bodies reach the Bot API server's handlers as strings: scalars as text, objects re-serialised. */
export function flattenJson(json: Record<string, unknown>): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(json)) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

/** Node's own multipart parser (undici, behind Request.formData), so no extra dependency. */
export async function parseMultipart(
  contentType: string,
  body: Buffer,
): Promise<{ params: Params; files: Map<string, UploadedPart> }> {
  const form = await new Request('http://fake.invalid/', {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  }).formData();
  const params: Params = {};
  const files = new Map<string, UploadedPart>();
  for (const [name, value] of form) {
    if (typeof value === 'string') params[name] = value;
    else files.set(name, { bytes: Buffer.from(await value.arrayBuffer()), filename: value.name });
  }
  return { params, files };
}
