import type {
  FakeApiUser,
  FakeAttachment,
  FakeCommand,
  FakeCommandPermission,
  FakeDiscordUser,
  FakeEmbed,
  FakeMessage,
} from './types.js';
import { discordTimestamp, isObject, type JsonObject, pngSize, randomHex, snowflake } from './util.js';
import {
  type ApiError,
  apiError,
  type CommandInput,
  EMPTY_MESSAGE,
  FormErrors,
  MESSAGE_FLAG_EPHEMERAL,
  MESSAGE_FLAG_LOADING,
  type MentionType,
  type MessageFields,
} from './validate.js';

/*
 * The state behind the fake Discord: one guild with #alerts and #commands, the bot, users the tests name, messages
 * with their uploaded bytes, and registered commands. Choices where Discord is unverified or the fake simplifies:
 * - the guild has an @everyone role (id = guild id, as Discord does) and the bot as its only listed member;
 * - attachment URLs point at the fake (GET /attachments/...), not at cdn.discordapp.com, so tests can fetch them;
 *   an embed image/thumbnail `attachment://name` is rewritten to that URL with width/height (the attachment stays
 *   listed); an unmatched `attachment://` URL is kept as sent;
 * - an edit's `attachments` array keeps the listed existing attachments and adds the uploaded ones; without it all
 *   existing attachments are kept; only SUPPRESS_EMBEDS and IS_COMPONENTS_V2 flags change on edit;
 * - channel posts accept SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS and IS_COMPONENTS_V2 flags; others are dropped;
 * - a bulk overwrite keeps the id of a command with the same type and name, as Discord does, and bumps its version;
 * - who may use a command: an ADMINISTRATOR always; otherwise a channel overwrite that denies wins, then the user's
 *   overwrite, then the @everyone role's (the command's own overwrites replace the app-wide ones when it has any, as
 *   documented), then default_member_permissions ("0": nobody; otherwise every bit needed). The precedence between
 *   user, role and channel overwrites is not documented; members have no roles but @everyone;
 * - mentions are parsed from `content` only (embeds never mention), filtered by allowed_mentions or, without it, by
 *   the default (everything for channel posts, users only for interaction responses and webhooks); <@id> counts only
 *   for users the fake knows, <@&id> only for the guild's roles; an edit re-parses its new content.
 */

const PERMISSIONS = {
  createInstantInvite: 1n << 0n,
  addReactions: 1n << 6n,
  viewChannel: 1n << 10n,
  sendMessages: 1n << 11n,
  embedLinks: 1n << 14n,
  attachFiles: 1n << 15n,
  readMessageHistory: 1n << 16n,
  mentionEveryone: 1n << 17n,
  useExternalEmojis: 1n << 18n,
  connect: 1n << 20n,
  speak: 1n << 21n,
  changeNickname: 1n << 26n,
  useApplicationCommands: 1n << 31n,
  sendMessagesInThreads: 1n << 38n,
};
/** What the bot and users may do in every channel (no overwrites): enough to post embeds, files and components. */
export const GUILD_PERMISSIONS = Object.values(PERMISSIONS)
  .reduce((a, b) => a | b, 0n)
  .toString();

/** ADMINISTRATOR: not in GUILD_PERMISSIONS; a member the tests call admin has it. */
const ADMINISTRATOR = 1n << 3n;

const CHANNEL_POST_FLAGS = (1 << 2) | (1 << 12) | (1 << 15);
const EDITABLE_FLAGS = (1 << 2) | (1 << 15);
const MAX_ATTACHMENTS = 10;

export interface UploadedFile {
  readonly field: string;
  readonly index: number;
  readonly filename: string;
  readonly contentType: string | null;
  readonly data: Buffer;
}

export interface WorldOptions {
  readonly applicationId: string;
  readonly botUsername: string;
  readonly guildName: string;
  readonly attachmentSizeLimit: number;
  /** http://127.0.0.1:PORT, known only once the server listens. */
  readonly baseUrl: () => string;
}

interface Channel {
  readonly id: string;
  readonly name: string;
  readonly position: number;
  readonly topic: string | null;
}

export interface MessageMeta {
  readonly type: number;
  /** The mention types parsed when the body has no allowed_mentions. */
  readonly defaultMentions: readonly MentionType[];
  /** Flags the creator may set (others in the body are dropped). */
  readonly allowedFlags: number;
  /** Flags forced on (LOADING for a deferral). */
  readonly forcedFlags?: number;
  readonly extra?: JsonObject;
}

type Listener = (m: FakeMessage) => void;

export class World {
  readonly applicationId: string;
  readonly guildId = snowflake();
  readonly ownerId = snowflake();
  readonly alertChannelId: string;
  readonly commandChannelId: string;
  readonly botUser: FakeApiUser;
  readonly users = new Map<string, FakeApiUser>();
  private readonly channels = new Map<string, Channel>();
  private readonly joinedAt = discordTimestamp(Date.now() - 86_400_000);
  private readonly messages = new Map<string, FakeMessage>();
  private readonly order: string[] = [];
  private readonly deleted = new Set<string>();
  private readonly listeners = new Set<Listener>();
  private globalCommands: FakeCommand[] = [];
  private readonly guildCommands = new Map<string, FakeCommand[]>();
  /** Overwrites by command id, or by application id for every command without its own. */
  private readonly commandPermissions = new Map<string, readonly FakeCommandPermission[]>();

  constructor(private readonly options: WorldOptions) {
    this.applicationId = options.applicationId;
    this.botUser = {
      id: options.applicationId,
      username: options.botUsername,
      discriminator: '0',
      global_name: null,
      avatar: null,
      bot: true,
      public_flags: 0,
      flags: 0,
    };
    this.users.set(this.botUser.id, this.botUser);
    const commandChannel: Channel = { id: snowflake(), name: 'commands', position: 0, topic: null };
    const alertChannel: Channel = { id: snowflake(), name: 'alerts', position: 1, topic: 'Grid alerts' };
    this.channels.set(commandChannel.id, commandChannel);
    this.channels.set(alertChannel.id, alertChannel);
    this.commandChannelId = commandChannel.id;
    this.alertChannelId = alertChannel.id;
  }

  // ------------------------------------------------------------------------------------------ users, guild

  apiUser(user: FakeDiscordUser): FakeApiUser {
    const known = this.users.get(user.id);
    if (known && known.username === user.username) return known;
    const api: FakeApiUser = {
      id: user.id,
      username: user.username,
      discriminator: '0',
      global_name: user.username,
      avatar: null,
      public_flags: 0,
      flags: 0,
    };
    this.users.set(user.id, api);
    return api;
  }

  /** The member's permissions in every channel, as interactions carry them. */
  memberPermissions(user: FakeDiscordUser): string {
    const base = BigInt(GUILD_PERMISSIONS);
    return (user.admin === true ? base | ADMINISTRATOR : base).toString();
  }

  /** Guild member without `user` (as in `resolved.members`). */
  memberFields(): JsonObject {
    return {
      avatar: null,
      banner: null,
      communication_disabled_until: null,
      deaf: false,
      flags: 0,
      joined_at: this.joinedAt,
      mute: false,
      nick: null,
      pending: false,
      premium_since: null,
      roles: [],
      unusual_dm_activity_until: null,
    };
  }

  hasChannel(id: string): boolean {
    return this.channels.has(id);
  }

  channelJson(id: string, withGuildId = true): JsonObject | null {
    const c = this.channels.get(id);
    if (!c) return null;
    return {
      id: c.id,
      type: 0,
      ...(withGuildId ? { guild_id: this.guildId } : {}),
      name: c.name,
      position: c.position,
      parent_id: null,
      topic: c.topic,
      nsfw: false,
      rate_limit_per_user: 0,
      last_message_id: this.lastMessageId(c.id),
      permission_overwrites: [],
      flags: 0,
    };
  }

  everyoneRole(): JsonObject {
    return {
      id: this.guildId,
      name: '@everyone',
      description: null,
      color: 0,
      colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
      hoist: false,
      icon: null,
      unicode_emoji: null,
      position: 0,
      permissions: GUILD_PERMISSIONS,
      managed: false,
      mentionable: false,
      flags: 0,
    };
  }

  readyPayload(): { ready: JsonObject; guilds: JsonObject[] } {
    return {
      ready: {
        v: 10,
        user: { ...this.botUser, mfa_enabled: true, verified: true, email: null },
        user_settings: {},
        relationships: [],
        private_channels: [],
        presences: [],
        guilds: [{ id: this.guildId, unavailable: true }],
        guild_join_requests: [],
        geo_ordered_rtc_regions: ['rotterdam', 'frankfurt', 'madrid', 'milan', 'stockholm'],
        application: { id: this.applicationId, flags: 0 },
      },
      guilds: [this.guildCreatePayload()],
    };
  }

  private guildCreatePayload(): JsonObject {
    return {
      id: this.guildId,
      name: this.options.guildName,
      icon: null,
      splash: null,
      discovery_splash: null,
      banner: null,
      description: null,
      owner_id: this.ownerId,
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 1,
      default_message_notifications: 1,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      premium_tier: 0,
      premium_subscription_count: 0,
      premium_progress_bar_enabled: false,
      preferred_locale: 'en-US',
      features: [],
      roles: [this.everyoneRole()],
      emojis: [],
      stickers: [],
      soundboard_sounds: [],
      application_id: null,
      system_channel_id: this.commandChannelId,
      system_channel_flags: 0,
      rules_channel_id: null,
      public_updates_channel_id: null,
      safety_alerts_channel_id: null,
      vanity_url_code: null,
      max_members: 500000,
      max_video_channel_users: 25,
      max_stage_video_channel_users: 50,
      incidents_data: null,
      hub_type: null,
      latest_onboarding_question_id: null,
      home_header: null,
      version: Date.now(),
      joined_at: this.joinedAt,
      large: false,
      lazy: true,
      unavailable: false,
      member_count: 2,
      members: [{ ...this.memberFields(), user: this.botUser }],
      channels: [...this.channels.keys()].map((id) => this.channelJson(id, false)),
      threads: [],
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
      embedded_activities: [],
      activity_instances: [],
      application_command_counts: {},
    };
  }

  // ------------------------------------------------------------------------------------------ messages

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(id: string): FakeMessage | undefined {
    return this.deleted.has(id) ? undefined : this.messages.get(id);
  }

  visible(channelId?: string): FakeMessage[] {
    const out: FakeMessage[] = [];
    for (const id of this.order) {
      const m = this.get(id);
      if (
        m &&
        (channelId === undefined || m.channel_id === channelId) &&
        (m.flags & MESSAGE_FLAG_EPHEMERAL) === 0
      ) {
        out.push(m);
      }
    }
    return out;
  }

  private lastMessageId(channelId: string): string | null {
    for (let i = this.order.length - 1; i >= 0; i--) {
      const m = this.messages.get(this.order[i]!);
      if (m && m.channel_id === channelId) return m.id;
    }
    return null;
  }

  /** Message JSON as Discord returns it (no bytes). */
  static toJson(m: FakeMessage): JsonObject {
    return { ...m, attachments: m.attachments.map(({ data: _data, ...rest }) => rest) };
  }

  createMessage(
    channelId: string,
    fields: MessageFields,
    files: readonly UploadedFile[],
    meta: MessageMeta,
  ): FakeMessage | ApiError {
    const flags = ((fields.flags ?? 0) & meta.allowedFlags) | (meta.forcedFlags ?? 0);
    const id = snowflake();
    const attachments = this.attachmentsFor(channelId, [], fields, files, flags);
    if ('status' in attachments) return attachments;
    const message: FakeMessage = {
      id,
      type: meta.type,
      content: fields.content ?? '',
      channel_id: channelId,
      author: this.botUser,
      attachments,
      embeds: this.linkEmbeds(fields.embeds ?? [], attachments),
      ...this.mentions(fields.content ?? '', fields.allowedMentions, meta.defaultMentions),
      pinned: false,
      tts: fields.tts ?? false,
      timestamp: discordTimestamp(),
      edited_timestamp: null,
      flags,
      components: fields.components ?? [],
      ...meta.extra,
    };
    if (isEmpty(message) && !fields.extras) return EMPTY_MESSAGE;
    this.messages.set(id, message);
    this.order.push(id);
    this.emit(message);
    return message;
  }

  editMessage(
    id: string,
    fields: MessageFields,
    files: readonly UploadedFile[],
    options: { readonly endLoading: boolean; readonly defaultMentions: readonly MentionType[] },
  ): FakeMessage | ApiError {
    const old = this.get(id);
    if (!old) return apiError(404, 10008, 'Unknown Message');
    let flags = old.flags;
    if (fields.flags !== undefined) flags = (flags & ~EDITABLE_FLAGS) | (fields.flags & EDITABLE_FLAGS);
    if (options.endLoading) flags &= ~MESSAGE_FLAG_LOADING;
    const attachments = this.attachmentsFor(old.channel_id, old.attachments, fields, files, flags);
    if ('status' in attachments) return attachments;
    const message: FakeMessage = {
      ...old,
      ...(fields.content !== undefined
        ? this.mentions(fields.content, fields.allowedMentions, options.defaultMentions)
        : {}),
      content: fields.content ?? old.content,
      attachments,
      embeds: this.linkEmbeds(fields.embeds ?? old.embeds, attachments),
      components: fields.components ?? old.components,
      flags,
      edited_timestamp: discordTimestamp(),
    };
    if (isEmpty(message) && !fields.extras) return EMPTY_MESSAGE;
    this.messages.set(id, message);
    this.emit(message);
    return message;
  }

  deleteMessage(id: string): boolean {
    if (!this.get(id)) return false;
    this.deleted.add(id);
    return true;
  }

  attachmentBytes(channelId: string, attachmentId: string): FakeAttachment | undefined {
    for (const m of this.messages.values()) {
      if (m.channel_id !== channelId) continue;
      const a = m.attachments.find((x) => x.id === attachmentId);
      if (a) return a;
    }
    return undefined;
  }

  private attachmentsFor(
    channelId: string,
    existing: readonly FakeAttachment[],
    fields: MessageFields,
    files: readonly UploadedFile[],
    flags: number,
  ): FakeAttachment[] | ApiError {
    const refs = fields.attachments;
    const kept = refs === undefined ? [...existing] : existing.filter((a) => refs.some((r) => r.id === a.id));
    const added: FakeAttachment[] = [];
    for (const file of files) {
      if (file.data.length > this.options.attachmentSizeLimit)
        return apiError(413, 40005, 'Request entity too large');
      const ref = refs?.find((r) => r.id === String(file.index));
      const filename = ref?.filename ?? file.filename;
      const id = snowflake();
      const url = `${this.options.baseUrl()}/attachments/${channelId}/${id}/${encodeURIComponent(filename)}`;
      const size = pngSize(file.data);
      const contentType = file.contentType ?? undefined;
      added.push({
        id,
        filename,
        size: file.data.length,
        url,
        proxy_url: url,
        ...(contentType !== undefined ? { content_type: contentType } : {}),
        ...(size ? { width: size.width, height: size.height } : {}),
        ...(ref?.description !== undefined ? { description: ref.description } : {}),
        ...((flags & MESSAGE_FLAG_EPHEMERAL) !== 0 ? { ephemeral: true } : {}),
        data: file.data,
      });
    }
    const all = [...kept, ...added];
    if (all.length > MAX_ATTACHMENTS) {
      const errors = new FormErrors();
      errors.add(['attachments'], 'BASE_TYPE_MAX_LENGTH', `Must be ${MAX_ATTACHMENTS} or fewer in length.`);
      return errors.toError();
    }
    return all;
  }

  private linkEmbeds(embeds: readonly FakeEmbed[], attachments: readonly FakeAttachment[]): FakeEmbed[] {
    const link = (media: unknown): unknown => {
      if (!isObject(media) || typeof media.url !== 'string' || !media.url.startsWith('attachment://'))
        return media;
      const name = media.url.slice('attachment://'.length);
      const a = attachments.find((x) => x.filename === name);
      if (!a) return media;
      return {
        url: a.url,
        proxy_url: a.proxy_url,
        ...(a.width !== undefined ? { width: a.width, height: a.height } : {}),
        ...(a.content_type !== undefined ? { content_type: a.content_type } : {}),
        flags: 0,
      };
    };
    return embeds.map((e) => {
      const out: Record<string, unknown> = { ...e };
      if (e.image !== undefined) out.image = link(e.image);
      if (e.thumbnail !== undefined) out.thumbnail = link(e.thumbnail);
      return out as FakeEmbed;
    });
  }

  /** mention_everyone, mentions and mention_roles of a message with this content. */
  private mentions(
    content: string,
    allowed: MessageFields['allowedMentions'],
    defaults: readonly MentionType[],
  ): Pick<FakeMessage, 'mention_everyone' | 'mentions' | 'mention_roles'> {
    const parse = allowed ? (allowed.parse ?? []) : defaults;
    const userIds = new Set([...content.matchAll(/<@!?(\d{15,21})>/g)].map((m) => m[1]!));
    const roleIds = new Set([...content.matchAll(/<@&(\d{15,21})>/g)].map((m) => m[1]!));
    const userAllowed = (id: string) => parse.includes('users') || (allowed?.users ?? []).includes(id);
    const roleAllowed = (id: string) => parse.includes('roles') || (allowed?.roles ?? []).includes(id);
    return {
      mention_everyone: parse.includes('everyone') && /@(everyone|here)\b/.test(content),
      mentions: [...userIds].filter(userAllowed).flatMap((id) => this.users.get(id) ?? []),
      mention_roles: [...roleIds].filter((id) => id === this.guildId && roleAllowed(id)),
    };
  }

  private emit(m: FakeMessage): void {
    for (const listener of [...this.listeners]) listener(m);
  }

  // ------------------------------------------------------------------------------------------ commands

  commands(guildId?: string): FakeCommand[] {
    return guildId === undefined ? [...this.globalCommands] : [...(this.guildCommands.get(guildId) ?? [])];
  }

  allCommands(): FakeCommand[] {
    return [...[...this.guildCommands.values()].flat(), ...this.globalCommands];
  }

  overwriteCommands(inputs: readonly CommandInput[], guildId?: string): FakeCommand[] {
    const previous = this.commands(guildId);
    const next = inputs.map((input): FakeCommand => {
      const same = previous.find((c) => c.type === input.type && c.name === input.name);
      const raw = input.raw;
      return {
        id: same?.id ?? snowflake(),
        application_id: this.applicationId,
        version: snowflake(),
        default_member_permissions:
          typeof raw.default_member_permissions === 'string' ? raw.default_member_permissions : null,
        type: input.type,
        name: input.name,
        name_localizations: isObject(raw.name_localizations) ? raw.name_localizations : null,
        description: input.description,
        description_localizations: isObject(raw.description_localizations)
          ? raw.description_localizations
          : null,
        ...(guildId !== undefined ? { guild_id: guildId } : {}),
        ...(input.options ? { options: input.options } : {}),
        contexts: Array.isArray(raw.contexts) ? raw.contexts : null,
        integration_types: Array.isArray(raw.integration_types) ? raw.integration_types : [0],
        dm_permission: guildId === undefined ? raw.dm_permission !== false : undefined,
        nsfw: raw.nsfw === true,
      };
    });
    const clean = next.map(
      (c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as FakeCommand,
    );
    if (guildId === undefined) this.globalCommands = clean;
    else this.guildCommands.set(guildId, clean);
    return clean;
  }

  setCommandPermissions(permissions: readonly FakeCommandPermission[], commandId?: string): void {
    this.commandPermissions.set(commandId ?? this.applicationId, [...permissions]);
  }

  /** Whether a member sees and may use a command in a channel (see the header for the rules). */
  canUse(user: FakeDiscordUser, command: FakeCommand, channelId: string): boolean {
    if ((BigInt(this.memberPermissions(user)) & ADMINISTRATOR) !== 0n) return true;
    const own = this.commandPermissions.get(command.id) ?? [];
    const overwrites = own.length > 0 ? own : (this.commandPermissions.get(this.applicationId) ?? []);
    const find = (type: number, ids: readonly string[]) =>
      overwrites.find((o) => o.type === type && ids.includes(o.id));
    const allChannels = (BigInt(this.guildId) - 1n).toString();
    if (find(3, [channelId, allChannels])?.permission === false) return false;
    const decided = find(2, [user.id]) ?? find(1, [this.guildId]);
    if (decided) return decided.permission;
    const required = command.default_member_permissions;
    if (required === null) return true;
    if (required === '0') return false;
    const bits = BigInt(required);
    return (BigInt(this.memberPermissions(user)) & bits) === bits;
  }

  /** A chat-input command a user in the guild can invoke: guild commands shadow global ones of the same name. */
  findChatInput(name: string): FakeCommand | undefined {
    const match = (c: FakeCommand): boolean => c.type === 1 && c.name === name;
    return this.commands(this.guildId).find(match) ?? this.globalCommands.find(match);
  }

  newInteractionToken(id: string): string {
    return `aW50ZXJhY3Rpb246${Buffer.from(`${id}:${randomHex(60)}`).toString('base64url')}`;
  }
}

function isEmpty(m: FakeMessage): boolean {
  return (
    m.content === '' &&
    m.embeds.length === 0 &&
    m.components.length === 0 &&
    m.attachments.length === 0 &&
    (m.flags & MESSAGE_FLAG_LOADING) === 0
  );
}

export { CHANNEL_POST_FLAGS };
