import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import {
  type Answer,
  FakeBotApi,
  flattenJson,
  type Params,
  parseMultipart,
  type UploadedPart,
} from './api.js';
import type { FakeTelegram, FakeTelegramOptions } from './types.js';

export type { MessageEntity } from './entities.js';
export type {
  FakeTelegram,
  FakeTelegramCallbackAnswer,
  FakeTelegramChat,
  FakeTelegramChatAction,
  FakeTelegramCommand,
  FakeTelegramFailOptions,
  FakeTelegramFile,
  FakeTelegramMessage,
  FakeTelegramOptions,
  FakeTelegramUser,
  FakeTelegramUserSaysOptions,
  InlineKeyboardButton,
  ReplyMarkup,
} from './types.js';

/*
 * A local fake of the Telegram Bot API (protocols.md 3), for tests: real HTTP on 127.0.0.1, `/bot<token>/<method>`
 * with query, JSON, urlencoded or multipart parameters, Telegram's envelope, HTTP status = error_code, and the error
 * texts of the real server. Long polling, conflicts, webhook delivery and parse_mode follow tdlib/telegram-bot-api
 * (Client.cpp) and TDLib (MessageEntity.cpp, BotCommands.cpp) as read in their sources, not guessed.
 *
 * Where the fake follows Telegram in ways that surprise (all seen in the server source):
 * - a second long poll terminates the FIRST one: the poll already waiting gets 409 "terminated by other getUpdates
 *   request", the newer one carries on (so of two telegraf instances the older one stops);
 * - a getUpdates repeating the previous offset within 3 s with timeout < 3 waits 3 s (anti-spin). telegraf's last
 *   getUpdates after bot.stop() is such a call, so the launch() promise settles ~3 s after stop() unless the fake is
 *   closed first (option repeatedPollFloorSeconds: 0 turns this off);
 * - a short poll (timeout 0) neither waits nor disturbs a waiting long poll; an offset past the end reads from the
 *   head;
 * - setWebhook answers 429 "retry after 1" when called again within a second; setWebhook with an empty url deletes;
 *   successful webhook calls carry a description ("Webhook was set", "Webhook is already deleted", ...);
 * - text limits count code points after parse_mode processing and trimming; the stored text is the parsed one.
 *
 * Where the fake deliberately differs, or chooses because Telegram is unverified:
 * - webhook URLs may be http:// on any port (Telegram: HTTPS on 443/80/88/8443) and are not verified on setWebhook;
 *   delivery is one update at a time in order (Telegram: up to max_connections), retried every webhookRetryMs;
 * - a 409 is answered at once (Telegram delays repeated conflict answers by 3 s); answering a callback query twice
 *   is QUERY_ID_INVALID; answerCallbackQuery text over 200 is "MESSAGE_TOO_LONG" (unverified);
 * - structural JSON errors (bad reply_markup field types, bad commands/scope JSON, malformed JSON bodies) use
 *   plausible texts that were not checked; document mime_type comes from the file name;
 * - updates of a type outside allowed_updates are dropped when they happen, never queued (Telegram's docs only say
 *   the setting does not affect updates created before it);
 * - message ids count per chat from 1, shared by users and the bot; message_thread_id is stored and echoed as sent
 *   (is_topic_message only in forum chats), never checked against existing topics; no privacy mode in groups;
 * - photos keep the uploaded bytes (PNG or JPEG only, else IMAGE_PROCESS_FAILED); the PhotoSize ladder is computed,
 *   not re-encoded; no file size limits beyond the 50 MB body limit;
 * - floodNext hits send* methods except sendChatAction (so a "typing" cannot swallow it); failNext hits any method
 *   but getUpdates unless told which; both count in calls();
 * - only the methods in api.ts exist; any other, real or not, is 404 "Not Found" like an unknown method.
 */

const DEFAULT_TOKEN = '123456789:AAHfakeTokenForTests_0123456789abcdef';
const BODY_LIMIT = 52 * 1024 * 1024;

function send(reply: FastifyReply, answer: Answer): FastifyReply {
  return reply
    .code(answer.ok ? 200 : answer.error_code)
    .type('application/json')
    .send(JSON.stringify(answer));
}

/** Parameters from the query string and the body; the body wins where both name a parameter. */
async function readParams(
  req: FastifyRequest,
  rawQuery: string,
): Promise<{ params: Params; files: Map<string, UploadedPart> } | string> {
  const params: Params = Object.fromEntries(new URLSearchParams(rawQuery));
  let files = new Map<string, UploadedPart>();
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  if (body.length === 0) return { params, files };
  const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
  if (contentType.startsWith('application/json')) {
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return "can't parse JSON object";
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return "can't parse JSON object";
    Object.assign(params, flattenJson(json as Record<string, unknown>));
  } else if (contentType.startsWith('multipart/form-data')) {
    try {
      const parsed = await parseMultipart(String(req.headers['content-type']), body);
      Object.assign(params, parsed.params);
      files = parsed.files;
    } catch {
      return "can't parse multipart/form-data request";
    }
  } else {
    Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
  }
  return { params, files };
}

/** ClientManager's token shape check: "<bot id>:<secret>". */
function wellFormedToken(token: string): boolean {
  return token.length > 0 && token.length <= 80 && /^\d+:[^/]+$/.test(token);
}

export async function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const token = options.token ?? DEFAULT_TOKEN;
  if (!wellFormedToken(token)) throw new Error(`fake telegram: token ${token} is not shaped <id>:<secret>`);
  const api = new FakeBotApi({
    token,
    botUsername: options.botUsername ?? 'gridops_test_bot',
    botFirstName: options.botFirstName ?? 'GridOps Test',
    now: options.now ?? Date.now,
    repeatedPollFloorSeconds: options.repeatedPollFloorSeconds ?? 3,
    webhookRetryMs: options.webhookRetryMs ?? 200,
  });

  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.all('*', async (req: FastifyRequest, reply: FastifyReply) => {
    const rawUrl = req.raw.url ?? req.url;
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);

    const download = /^\/file\/bot([^/]+)\/(.+)$/.exec(path);
    if (download !== null) {
      const bytes = decodeURIComponent(download[1]!) === token ? api.fileByPath(download[2]!) : undefined;
      if (bytes === undefined) return send(reply, { ok: false, error_code: 404, description: 'Not Found' });
      return reply.code(200).type('application/octet-stream').send(bytes);
    }

    const route = /^\/bot([^/]*)\/([^/]*)$/.exec(path);
    if (route === null) return send(reply, { ok: false, error_code: 404, description: 'Not Found' });
    const given = decodeURIComponent(route[1]!);
    if (given !== token) {
      const description = wellFormedToken(given) ? 'Unauthorized' : 'Unauthorized: invalid token specified';
      return send(reply, { ok: false, error_code: 401, description });
    }
    const method = decodeURIComponent(route[2]!);
    const read = await readParams(req, rawQuery);
    if (typeof read === 'string') {
      return send(reply, { ok: false, error_code: 400, description: `Bad Request: ${read}` });
    }
    const answer = await api.dispatch({
      method,
      params: read.params,
      files: read.files,
      viaWebhookReply: false,
      onHangup: (listener) => {
        reply.raw.on('close', () => {
          if (!reply.raw.writableFinished) listener();
        });
      },
    });
    return send(reply, answer);
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('fake telegram: no TCP address');
  let closing: Promise<void> | null = null;

  const calls = ((method?: string) => api.calls(method)) as FakeTelegram['calls'];
  return {
    apiRoot: `http://127.0.0.1:${address.port}/`,
    token,
    bot: { id: api.botUser.id, username: api.botUser.username, first_name: api.botUser.first_name },
    registerChat: (chat) => api.registerChat(chat),
    userSays: (user, chat, text, opts) => api.userSays(user, chat, text, opts),
    userPresses: (user, chat, messageId, data, opts) => api.userPresses(user, chat, messageId, data, opts),
    sent: () => api.sent(),
    waitForMessage: (predicate, timeoutMs = 5000) => api.waitForMessage(predicate, timeoutMs),
    callbackAnswers: () => api.callbackAnswers(),
    commands: (opts = {}) => api.commands(opts.scope, opts.language_code),
    chatActions: () => api.chatActions(),
    calls,
    floodNext: (n, retryAfterSeconds) => api.floodNext(n, retryAfterSeconds),
    flooded: () => api.flooded(),
    failNext: (status, description, opts) => api.failNext(status, description, opts),
    webhook: () => api.webhook(),
    pendingUpdates: () => api.pendingUpdates(),
    close: () => {
      closing ??= (async () => {
        api.shutdown();
        await app.close();
      })();
      return closing;
    },
  };
}
