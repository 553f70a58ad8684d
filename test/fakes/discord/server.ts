import { createHash } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { Gateway } from './gateway.js';
import { Interactions, type Payload, type Reply } from './interactions.js';
import type { FakeCall, FakeDiscord, FakeDiscordOptions, FakeMessage } from './types.js';
import { type JsonObject, makeBotToken, parseMultipart, randomHex, snowflake, withTimeout } from './util.js';
import { apiError, checkCommands, checkMessageBody } from './validate.js';
import { CHANNEL_POST_FLAGS, type UploadedFile, World } from './world.js';

export type {
  FakeApiUser,
  FakeAttachment,
  FakeCall,
  FakeChoice,
  FakeCommand,
  FakeCommandOption,
  FakeCommandPermission,
  FakeComponent,
  FakeDiscord,
  FakeDiscordOptions,
  FakeDiscordUser,
  FakeEmbed,
  FakeEmbedField,
  FakeGatewayStats,
  FakeInteraction,
  FakeInteractionResponse,
  FakeMessage,
  FakeOptionValue,
} from './types.js';

/*
 * A local fake of Discord for tests (protocols.md 4, pitfalls 11-12): REST under /api/v10 and the gateway on the same
 * 127.0.0.1 port, driven from tests through the returned handle (slash/press/autocomplete dispatch interactions the
 * way Discord's client would). Real discord.js 14 runs against it with `rest: { api: fake.apiRoot }`.
 * Choices where Discord is unverified or the fake simplifies (more in gateway.ts, interactions.ts, world.ts):
 * - bot routes need `Authorization: Bot <token>` (401 `{"message":"401: Unauthorized","code":0}`); interaction
 *   callback and webhook routes need none; unknown routes are 404 `{"message":"404: Not Found","code":0}`;
 * - every route has a rate-limit bucket per route and major parameter (channel, guild, webhook token, interaction),
 *   default 5 requests per 5 s, reported in X-RateLimit-* and enforced with 429 scope "user"; there is no global
 *   50/s limit; Retry-After and X-RateLimit-Reset-After carry decimals (Discord's Retry-After may be whole seconds);
 * - rateLimitNext 429s count as calls but spend no bucket budget;
 * - bad JSON or multipart is 400 50109; a file over attachmentSizeLimit (10 MiB) or a body over 25 MiB is 413 40005;
 * - channel messages are only bot posts; no MESSAGE_* gateway events are dispatched.
 */

const API_PREFIX = '/api/v10';
/** A channel post without allowed_mentions parses every mention in its content. */
const ALL_MENTIONS = ['users', 'roles', 'everyone'] as const;
const BODY_LIMIT = 25 * 1024 * 1024;

class MultipartBody {
  constructor(
    readonly payload: unknown,
    readonly files: UploadedFile[],
  ) {}
}

interface Injected {
  readonly retryAfter: number;
  readonly global: boolean;
}

interface Bucket {
  remaining: number;
  resetAt: number;
}

interface RouteSpec {
  readonly auth: boolean;
  /** Major parameter of the bucket (channel id, webhook token...), '' for none. */
  readonly major?: (p: Record<string, string>) => string;
  readonly injectable?: boolean;
}

interface Ctx {
  readonly params: Record<string, string>;
  readonly query: Record<string, string>;
  readonly payload: Payload;
}

function toPayload(body: unknown): Payload {
  if (body instanceof MultipartBody) return { json: body.payload, files: body.files };
  return { json: body ?? null, files: [] };
}

function fromMultipart(raw: Buffer, contentType: string): MultipartBody {
  const parts = parseMultipart(raw, contentType);
  let payload: unknown = null;
  const files: UploadedFile[] = [];
  for (const part of parts) {
    const m = /^files\[(\d+)\]$/.exec(part.name);
    if (part.name === 'payload_json') {
      payload = JSON.parse(part.data.toString('utf8'));
    } else if (m?.[1] !== undefined || part.name === 'file') {
      files.push({
        field: part.name,
        index: m?.[1] !== undefined ? Number(m[1]) : 0,
        filename: part.filename ?? part.name,
        contentType: part.contentType,
        data: part.data,
      });
    }
  }
  return new MultipartBody(payload, files);
}

function bucketHash(key: string): string {
  return createHash('sha1').update(key).digest('hex').slice(0, 32);
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const applicationId = options.applicationId ?? snowflake();
  const token = options.token ?? makeBotToken(applicationId);
  const limit = options.rateLimit ?? { limit: 5, windowMs: 5000 };
  const attachmentSizeLimit = options.attachmentSizeLimit ?? 10 * 1024 * 1024;
  let baseUrl = '';
  const world = new World({
    applicationId,
    botUsername: options.botUsername ?? 'GridOps',
    guildName: options.guildName ?? 'GridOps Test',
    attachmentSizeLimit,
    baseUrl: () => baseUrl,
  });
  const gateway = new Gateway({
    token,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41250,
    privilegedIntents: options.privilegedIntents ?? 0,
    readyPayload: () => world.readyPayload(),
    resumeUrl: () => baseUrl.replace(/^http/, 'ws'),
  });
  const interactions = new Interactions(world, gateway, {
    deadlineMs: options.interactionDeadlineMs ?? 3000,
    tokenTtlMs: options.interactionTokenTtlMs ?? 15 * 60 * 1000,
    attachmentSizeLimit,
  });
  const calls: FakeCall[] = [];
  const injected: Injected[] = [];
  const buckets = new Map<string, Bucket>();
  const verifyKey = randomHex(32);

  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    // Real interaction tokens run to a few hundred characters; find-my-way's default cap is 100.
    routerOptions: { maxParamLength: 1000 },
    forceCloseConnections: true,
  });
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (req, body, done) => {
    try {
      done(null, fromMultipart(body as Buffer, req.headers['content-type'] ?? ''));
    } catch (e) {
      done(Object.assign(e instanceof Error ? e : new Error(String(e)), { statusCode: 400 }), undefined);
    }
  });
  app.setErrorHandler((error: { statusCode?: number }, _req, reply) => {
    const status = error.statusCode ?? 500;
    if (status === 413) return reply.code(413).send(apiError(413, 40005, 'Request entity too large').body);
    if (status >= 400 && status < 500) {
      return reply.code(400).send(apiError(400, 50109, 'The request body contains invalid JSON.').body);
    }
    return reply.code(500).send({ message: '500: Internal Server Error', code: 0 });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ message: '404: Not Found', code: 0 }));
  app.addHook('onResponse', async (req, reply) => {
    const url = new URL(req.url, 'http://fake');
    if (!url.pathname.startsWith('/api/')) return;
    const payload = toPayload(req.body);
    // Clients percent-encode path segments (discord.js sends %40original); the log holds them decoded, as routed.
    let path = url.pathname;
    try {
      path = decodeURIComponent(path);
    } catch {}
    calls.push({
      method: req.method,
      path: path.startsWith(API_PREFIX) ? path.slice(API_PREFIX.length) : path,
      query: Object.fromEntries(url.searchParams),
      status: reply.statusCode,
      body: payload.json,
      files: payload.files.map((f) => ({ field: f.field, filename: f.filename, size: f.data.length })),
      authorized: req.headers.authorization === `Bot ${token}`,
      at: Date.now(),
    });
  });

  const send = (reply: FastifyReply, r: Reply, headers: Record<string, string> = {}): FastifyReply => {
    reply.code(r.status).headers(headers);
    return r.status === 204 ? reply.send() : reply.send(r.body);
  };

  /** Takes one unit of a bucket; answers its X-RateLimit-* headers and, when spent, the 429. */
  const take = (key: string): { headers: Record<string, string>; limited: Reply | null } => {
    const now = Date.now();
    let b = buckets.get(key);
    if (!b || now >= b.resetAt) {
      b = { remaining: limit.limit, resetAt: now + limit.windowMs };
      buckets.set(key, b);
    }
    const spent = b.remaining <= 0;
    if (!spent) b.remaining -= 1;
    const headers: Record<string, string> = {
      'X-RateLimit-Limit': String(limit.limit),
      'X-RateLimit-Remaining': String(b.remaining),
      'X-RateLimit-Reset': seconds(b.resetAt),
      'X-RateLimit-Reset-After': seconds(b.resetAt - now),
      'X-RateLimit-Bucket': bucketHash(key.split(' ').slice(0, 2).join(' ')),
    };
    if (!spent) return { headers, limited: null };
    const retryAfter = seconds(b.resetAt - now);
    return {
      headers: { ...headers, 'Retry-After': retryAfter, 'X-RateLimit-Scope': 'user' },
      limited: {
        status: 429,
        body: { message: 'You are being rate limited.', retry_after: Number(retryAfter), global: false },
      },
    };
  };

  const route = (
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    spec: RouteSpec,
    handle: (ctx: Ctx) => Reply,
  ) => {
    app.route({
      method,
      url: `${API_PREFIX}${path}`,
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const params = req.params as Record<string, string>;
        if (spec.auth && req.headers.authorization !== `Bot ${token}`) {
          return send(reply, { status: 401, body: { message: '401: Unauthorized', code: 0 } });
        }
        const key = `${method} ${path} ${spec.major?.(params) ?? ''}`;
        if (spec.injectable) {
          const fault = injected.shift();
          if (fault) {
            const retryAfter = fault.retryAfter.toFixed(3);
            const headers: Record<string, string> = fault.global
              ? { 'Retry-After': retryAfter, 'X-RateLimit-Global': 'true', 'X-RateLimit-Scope': 'global' }
              : {
                  'X-RateLimit-Limit': String(limit.limit),
                  'X-RateLimit-Remaining': '0',
                  'X-RateLimit-Reset': seconds(Date.now() + fault.retryAfter * 1000),
                  'X-RateLimit-Reset-After': retryAfter,
                  'X-RateLimit-Bucket': bucketHash(`${method} ${path}`),
                  'Retry-After': retryAfter,
                  'X-RateLimit-Scope': 'user',
                };
            const body = {
              message: 'You are being rate limited.',
              retry_after: fault.retryAfter,
              global: fault.global,
            };
            return send(reply, { status: 429, body }, headers);
          }
        }
        const { headers, limited } = take(key);
        if (limited) return send(reply, limited, headers);
        const query = Object.fromEntries(new URL(req.url, 'http://fake').searchParams);
        return send(reply, handle({ params, query, payload: toPayload(req.body) }), headers);
      },
    });
  };

  const channelOf = (p: Record<string, string>) => p.channel ?? '';
  const webhookOf = (p: Record<string, string>) => `${p.app ?? ''}/${p.token ?? ''}`;
  const unknownChannel = apiError(404, 10003, 'Unknown Channel');
  const fail = (e: { status: number; body: JsonObject }): Reply => ({ status: e.status, body: e.body });

  // ------------------------------------------------------------------------------------------ gateway, users

  route('GET', '/gateway', { auth: false }, () => ({
    status: 200,
    body: { url: baseUrl.replace(/^http/, 'ws') },
  }));
  route('GET', '/gateway/bot', { auth: true }, () => ({
    status: 200,
    body: {
      url: baseUrl.replace(/^http/, 'ws'),
      shards: 1,
      session_start_limit: {
        total: 1000,
        remaining: Math.max(0, 999 - gateway.stats().identifies),
        reset_after: 14_400_000,
        max_concurrency: 1,
      },
    },
  }));
  route('GET', '/users/@me', { auth: true }, () => ({
    status: 200,
    body: {
      ...world.botUser,
      banner: null,
      accent_color: null,
      banner_color: null,
      avatar_decoration_data: null,
      collectibles: null,
      primary_guild: null,
      clan: null,
      mfa_enabled: true,
      locale: 'en-US',
      premium_type: 0,
      email: null,
      verified: true,
      bio: '',
    },
  }));
  route('GET', '/applications/@me', { auth: true }, () => ({
    status: 200,
    body: {
      id: applicationId,
      name: world.botUser.username,
      icon: null,
      description: '',
      summary: '',
      type: null,
      bot: world.botUser,
      bot_public: false,
      bot_require_code_grant: false,
      verify_key: verifyKey,
      flags: 0,
      hook: true,
      owner: {
        id: world.ownerId,
        username: 'owner',
        discriminator: '0',
        global_name: null,
        avatar: null,
        flags: 0,
        public_flags: 0,
      },
      team: null,
      integration_types_config: { '0': {} },
      approximate_guild_count: 1,
    },
  }));

  // ------------------------------------------------------------------------------------------ commands

  const commandsRoutes = (path: string, guildOf: (p: Record<string, string>) => string | undefined) => {
    const scope = (p: Record<string, string>): Reply | null => {
      if (p.app !== applicationId) {
        return fail(
          apiError(403, 20012, 'You are not authorized to perform this action on this application'),
        );
      }
      const guild = guildOf(p);
      if (guild !== undefined && guild !== world.guildId) return fail(apiError(403, 50001, 'Missing Access'));
      return null;
    };
    const major = (p: Record<string, string>) => guildOf(p) ?? '';
    route('GET', path, { auth: true, major }, ({ params }) => {
      return scope(params) ?? { status: 200, body: world.commands(guildOf(params)) };
    });
    route('PUT', path, { auth: true, major }, ({ params, payload }) => {
      const denied = scope(params);
      if (denied) return denied;
      const checked = checkCommands(payload.json);
      if ('error' in checked) return fail(checked.error);
      return { status: 200, body: world.overwriteCommands(checked.commands, guildOf(params)) };
    });
  };
  commandsRoutes('/applications/:app/commands', () => undefined);
  commandsRoutes('/applications/:app/guilds/:guild/commands', (p) => p.guild ?? '');

  // ------------------------------------------------------------------------------------------ channels

  route('GET', '/channels/:channel', { auth: true, major: channelOf }, ({ params }) => {
    const channel = world.channelJson(params.channel ?? '');
    return channel ? { status: 200, body: channel } : fail(unknownChannel);
  });
  route('GET', '/channels/:channel/messages', { auth: true, major: channelOf }, ({ params, query }) => {
    const channelId = params.channel ?? '';
    if (!world.hasChannel(channelId)) return fail(unknownChannel);
    const max = Math.min(100, Math.max(1, Number(query.limit ?? 50) || 50));
    const newestFirst = world.visible(channelId).reverse();
    return { status: 200, body: newestFirst.slice(0, max).map(World.toJson) };
  });
  route(
    'POST',
    '/channels/:channel/messages',
    { auth: true, major: channelOf, injectable: true },
    ({ params, payload }) => {
      const channelId = params.channel ?? '';
      if (!world.hasChannel(channelId)) return fail(unknownChannel);
      const checked = checkMessageBody(payload.json);
      if ('error' in checked) return fail(checked.error);
      const created = world.createMessage(channelId, checked.fields, payload.files, {
        type: 0,
        allowedFlags: CHANNEL_POST_FLAGS,
        defaultMentions: ALL_MENTIONS,
      });
      return 'status' in created ? fail(created) : { status: 200, body: World.toJson(created) };
    },
  );
  const ownMessage = (params: Record<string, string>): FakeMessage | Reply => {
    if (!world.hasChannel(params.channel ?? '')) return fail(unknownChannel);
    const m = world.get(params.message ?? '');
    if (!m || m.channel_id !== params.channel || (m.flags & 64) !== 0) {
      return fail(apiError(404, 10008, 'Unknown Message'));
    }
    return m;
  };
  route('GET', '/channels/:channel/messages/:message', { auth: true, major: channelOf }, ({ params }) => {
    const m = ownMessage(params);
    return 'status' in m ? m : { status: 200, body: World.toJson(m) };
  });
  route(
    'PATCH',
    '/channels/:channel/messages/:message',
    { auth: true, major: channelOf },
    ({ params, payload }) => {
      const m = ownMessage(params);
      if ('status' in m) return m;
      const checked = checkMessageBody(payload.json);
      if ('error' in checked) return fail(checked.error);
      const edited = world.editMessage(m.id, checked.fields, payload.files, {
        endLoading: false,
        defaultMentions: ALL_MENTIONS,
      });
      return 'status' in edited ? fail(edited) : { status: 200, body: World.toJson(edited) };
    },
  );
  route('DELETE', '/channels/:channel/messages/:message', { auth: true, major: channelOf }, ({ params }) => {
    const m = ownMessage(params);
    if ('status' in m) return m;
    world.deleteMessage(m.id);
    return { status: 204 };
  });

  // ------------------------------------------------------------------------------------------ interactions

  route(
    'POST',
    '/interactions/:id/:token/callback',
    { auth: false, major: (p) => p.id ?? '' },
    ({ params, query, payload }) =>
      interactions.callback(params.id ?? '', params.token ?? '', query.with_response === 'true', payload),
  );
  route('POST', '/webhooks/:app/:token', { auth: false, major: webhookOf }, ({ params, payload }) =>
    interactions.webhook('POST', params.app ?? '', params.token ?? '', null, payload),
  );
  for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
    route(
      method,
      '/webhooks/:app/:token/messages/:message',
      { auth: false, major: webhookOf },
      ({ params, payload }) =>
        interactions.webhook(method, params.app ?? '', params.token ?? '', params.message ?? '', payload),
    );
  }

  // Attachment bytes, at the URLs the fake puts in attachment objects (outside /api, no auth, like Discord's CDN).
  app.get('/attachments/:channel/:id/:filename', async (req, reply) => {
    const p = req.params as Record<string, string>;
    const a = world.attachmentBytes(p.channel ?? '', p.id ?? '');
    if (!a) return reply.code(404).send('Not Found');
    return reply
      .code(200)
      .header('Content-Type', a.content_type ?? 'application/octet-stream')
      .send(a.data);
  });

  gateway.attach(app.server);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('fake Discord: no TCP address');
  baseUrl = `http://127.0.0.1:${address.port}`;

  let closed = false;
  return {
    apiRoot: `${baseUrl}/api`,
    gatewayUrl: baseUrl.replace(/^http/, 'ws'),
    token,
    applicationId,
    guildId: world.guildId,
    alertChannelId: world.alertChannelId,
    commandChannelId: world.commandChannelId,
    botUser: world.botUser,
    slash: (user, name, options = {}, at = {}) =>
      interactions.slash(user, name, options, at.channelId ?? world.commandChannelId),
    press: (user, message, customId) => interactions.press(user, message, customId),
    autocomplete: (user, name, focusedOption, value, otherOptions = {}) =>
      interactions.autocomplete(
        user,
        name,
        { name: focusedOption, value },
        otherOptions,
        world.commandChannelId,
      ),
    channelMessages: (channelId) => world.visible(channelId),
    message: (id) => world.get(id),
    waitForChannelMessage: (predicate, timeoutMs = 5000) => {
      const existing = world.visible().find(predicate);
      if (existing) return Promise.resolve(existing);
      let stop = (): void => undefined;
      const found = new Promise<FakeMessage>((resolve) => {
        stop = world.onChange((m) => {
          if ((m.flags & 64) === 0 && predicate(m)) {
            stop();
            resolve(m);
          }
        });
      });
      return withTimeout(found, timeoutMs, 'no channel message matched').finally(() => stop());
    },
    registeredCommands: () => world.allCommands(),
    setCommandPermissions: (permissions, commandName) => {
      if (commandName === undefined) return world.setCommandPermissions(permissions);
      const command = world.findChatInput(commandName);
      if (!command) throw new Error(`fake Discord: /${commandName} is not a registered chat-input command`);
      world.setCommandPermissions(permissions, command.id);
    },
    calls: (routePrefix) => calls.filter((c) => routePrefix === undefined || c.path.startsWith(routePrefix)),
    rateLimitNext: (n, retryAfterSeconds, opts = {}) => {
      for (let i = 0; i < n; i++)
        injected.push({ retryAfter: retryAfterSeconds, global: opts.global === true });
    },
    setInteractionDeadline: (ms) => {
      interactions.options.deadlineMs = ms;
    },
    dropGateway: () => gateway.drop(),
    gatewayStats: () => gateway.stats(),
    close: async () => {
      if (closed) return;
      closed = true;
      interactions.close();
      await gateway.close();
      await app.close();
    },
  };
}
