import type { Gateway } from './gateway.js';
import type {
  FakeApiUser,
  FakeChoice,
  FakeCommand,
  FakeCommandOption,
  FakeComponent,
  FakeDiscordUser,
  FakeInteraction,
  FakeInteractionResponse,
  FakeMessage,
  FakeOptionValue,
} from './types.js';
import { Deferred, isObject, type JsonObject, snowflake, withTimeout } from './util.js';
import {
  type ApiError,
  apiError,
  checkChoices,
  checkMessageBody,
  FormErrors,
  MESSAGE_FLAG_EPHEMERAL,
  MESSAGE_FLAG_LOADING,
} from './validate.js';
import { CHANNEL_POST_FLAGS, GUILD_PERMISSIONS, type UploadedFile, World } from './world.js';

/*
 * Interactions of the fake Discord (protocols.md 4.3): INTERACTION_CREATE dispatch, the callback endpoint and the
 * webhook routes that follow it. Choices where Discord is unverified or the fake simplifies:
 * - 40060 "Interaction has already been acknowledged." (400) for a second initial response; 10062 "Unknown
 *   interaction" (404) for an unknown id/token and for a first response after the deadline, which also kills the
 *   token; a callback that fails validation does not acknowledge (the bot may try again within the deadline);
 * - a callback type the interaction does not allow (e.g. 7 for a slash command) is 400 50035 on `type`;
 * - webhook routes for a token never acknowledged, expired (15 min) or of another application: 404 10015
 *   "Unknown Webhook"; a message id that is not this interaction's: 404 10008 "Unknown Message";
 * - a follow-up always returns the message (Discord treats `wait` as true for interaction follow-ups); the first
 *   follow-up after a type 5 deferral replaces the loading message instead of posting a new one;
 * - response messages to slash commands (original and follow-ups) are type 20 with `interaction_metadata`; those to
 *   components are type 0; all carry webhook_id = application id;
 * - slash()/press()/autocomplete() refuse what Discord's client would not send: unregistered commands, commands the
 *   member may not use (they are not shown: default_member_permissions and overwrites, see world.ts), unknown or
 *   missing required options, wrong option types, choices not offered, buttons not on the message or disabled, and
 *   buttons on an ephemeral message pressed by anyone but the user it was shown to;
 * - interaction responses and follow-ups parse only user mentions unless allowed_mentions says otherwise.
 */

const INTERACTION = { command: 2, component: 3, autocomplete: 4 } as const;
type InteractionType = (typeof INTERACTION)[keyof typeof INTERACTION];
const CALLBACK = { message: 4, deferMessage: 5, deferUpdate: 6, update: 7, choices: 8, modal: 9 } as const;
const ALLOWED: Record<InteractionType, readonly number[]> = {
  2: [CALLBACK.message, CALLBACK.deferMessage, CALLBACK.modal],
  3: [CALLBACK.message, CALLBACK.deferMessage, CALLBACK.deferUpdate, CALLBACK.update, CALLBACK.modal],
  4: [CALLBACK.choices],
};
const INTERACTION_FLAGS = CHANNEL_POST_FLAGS | MESSAGE_FLAG_EPHEMERAL;
const OPTION = {
  subcommand: 1,
  group: 2,
  string: 3,
  integer: 4,
  boolean: 5,
  user: 6,
  channel: 7,
  role: 8,
  mentionable: 9,
  number: 10,
  attachment: 11,
} as const;

/** Interactions and webhooks parse only user mentions by default [DD resources/message, allowed mentions]. */
const RESPONSE_MENTIONS = ['users'] as const;

const UNKNOWN_INTERACTION = apiError(404, 10062, 'Unknown interaction');
const ALREADY_ACKNOWLEDGED = apiError(400, 40060, 'Interaction has already been acknowledged.');
const UNKNOWN_WEBHOOK = apiError(404, 10015, 'Unknown Webhook');
const UNKNOWN_MESSAGE = apiError(404, 10008, 'Unknown Message');

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
}

export interface Payload {
  readonly json: unknown;
  readonly files: readonly UploadedFile[];
}

interface Record_ {
  readonly id: string;
  readonly token: string;
  readonly type: InteractionType;
  readonly label: string;
  readonly channelId: string;
  readonly user: FakeApiUser;
  readonly commandName: string | null;
  readonly sourceMessageId: string | null;
  readonly dispatchedAt: number;
  readonly deadlineMs: number;
  initialType: number | null;
  dead: boolean;
  originalId: string | null;
  awaitingEdit: boolean;
  readonly followUps: string[];
  readonly response: Deferred<FakeInteractionResponse>;
  readonly final: Deferred<FakeMessage>;
  readonly timer: NodeJS.Timeout;
}

export interface InteractionsOptions {
  deadlineMs: number;
  readonly tokenTtlMs: number;
  readonly attachmentSizeLimit: number;
}

function ok(message: FakeMessage): Reply {
  return { status: 200, body: World.toJson(message) };
}

function fail(error: ApiError): Reply {
  return { status: error.status, body: error.body };
}

function isApiError(x: FakeMessage | ApiError): x is ApiError {
  return 'status' in x && 'body' in x && !('id' in x);
}

export class Interactions {
  private readonly byId = new Map<string, Record_>();
  private readonly byToken = new Map<string, Record_>();

  constructor(
    private readonly world: World,
    private readonly gateway: Gateway,
    readonly options: InteractionsOptions,
  ) {}

  close(): void {
    for (const r of this.byId.values()) {
      clearTimeout(r.timer);
      const error = new Error('fake Discord closed');
      r.response.reject(error);
      r.final.reject(error);
    }
  }

  // ------------------------------------------------------------------------------------------ driver side

  slash(
    user: FakeDiscordUser,
    name: string,
    given: Readonly<Record<string, FakeOptionValue>>,
    channelId: string,
  ): FakeInteraction {
    const { command, data } = this.commandData(name, given, null);
    this.checkVisible(user, command, channelId);
    return this.dispatch(INTERACTION.command, user, channelId, `/${name}`, data, {
      commandName: command.name,
      sourceMessageId: null,
    });
  }

  press(user: FakeDiscordUser, message: FakeMessage | string, customId: string): FakeInteraction {
    const apiUser = this.world.apiUser(user);
    const id = typeof message === 'string' ? message : message.id;
    const current = this.world.get(id);
    if (!current) throw new Error(`fake Discord: message ${id} does not exist (deleted?)`);
    const button = findComponent(current.components, customId);
    if (!button) throw new Error(`fake Discord: message ${id} has no component with custom_id ${customId}`);
    if (button.type !== 2) throw new Error(`fake Discord: ${customId} is not a button (type ${button.type})`);
    if (button.disabled === true) throw new Error(`fake Discord: button ${customId} is disabled`);
    const shownTo = current.interaction_metadata?.user as { id?: string } | undefined;
    if ((current.flags & MESSAGE_FLAG_EPHEMERAL) !== 0 && shownTo?.id !== apiUser.id) {
      throw new Error(`fake Discord: message ${id} is ephemeral: only user ${String(shownTo?.id)} sees it`);
    }
    return this.dispatch(
      INTERACTION.component,
      user,
      current.channel_id,
      `button ${customId}`,
      { custom_id: customId, component_type: 2, id: button.id },
      { commandName: null, sourceMessageId: current.id, message: World.toJson(current) },
    );
  }

  async autocomplete(
    user: FakeDiscordUser,
    name: string,
    focused: { name: string; value: string },
    given: Readonly<Record<string, FakeOptionValue>>,
    channelId: string,
  ): Promise<FakeChoice[]> {
    const { command, data } = this.commandData(name, given, focused);
    this.checkVisible(user, command, channelId);
    const handle = this.dispatch(INTERACTION.autocomplete, user, channelId, `autocomplete /${name}`, data, {
      commandName: command.name,
      sourceMessageId: null,
    });
    const response = await handle.response();
    const choices =
      isObject(response.data) && Array.isArray(response.data.choices) ? response.data.choices : [];
    return choices as FakeChoice[];
  }

  /** Discord's client neither lists nor sends a command the member may not use. */
  private checkVisible(user: FakeDiscordUser, command: FakeCommand, channelId: string): void {
    if (!this.world.canUse(user, command, channelId)) {
      throw new Error(
        `fake Discord: /${command.name} is not available to ${user.username} (default_member_permissions ${String(command.default_member_permissions)}, no overwrite allows it)`,
      );
    }
  }

  private dispatch(
    type: InteractionType,
    member: FakeDiscordUser,
    channelId: string,
    label: string,
    data: JsonObject,
    extra: { commandName: string | null; sourceMessageId: string | null; message?: JsonObject },
  ): FakeInteraction {
    const channel = this.world.channelJson(channelId);
    if (!channel) throw new Error(`fake Discord: unknown channel ${channelId}`);
    const user = this.world.apiUser(member);
    if (this.gateway.sessionCount() === 0) {
      throw new Error('fake Discord: no gateway session (the bot has not identified, or it closed)');
    }
    const id = snowflake();
    const token = this.world.newInteractionToken(id);
    const deadlineMs = this.options.deadlineMs;
    const record: Record_ = {
      id,
      token,
      type,
      label,
      channelId,
      user,
      commandName: extra.commandName,
      sourceMessageId: extra.sourceMessageId,
      dispatchedAt: Date.now(),
      deadlineMs,
      initialType: null,
      dead: false,
      originalId: null,
      awaitingEdit: false,
      followUps: [],
      response: new Deferred(),
      final: new Deferred(),
      timer: setTimeout(() => this.expire(record), deadlineMs + 50),
    };
    record.timer.unref();
    this.byId.set(id, record);
    this.byToken.set(token, record);
    const guildId = this.world.guildId;
    this.gateway.dispatch('INTERACTION_CREATE', {
      id,
      application_id: this.world.applicationId,
      type,
      data,
      guild_id: guildId,
      guild: { id: guildId, locale: 'en-US', features: [] },
      channel_id: channelId,
      channel,
      member: { ...this.world.memberFields(), permissions: this.world.memberPermissions(member), user },
      token,
      version: 1,
      ...(extra.message ? { message: extra.message } : {}),
      app_permissions: GUILD_PERMISSIONS,
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      entitlement_sku_ids: [],
      authorizing_integration_owners: { '0': guildId },
      context: 0,
      attachment_size_limit: this.options.attachmentSizeLimit,
    });
    return {
      id,
      token,
      response: () => record.response.promise,
      final: (timeoutMs = 10_000) =>
        withTimeout(record.final.promise, timeoutMs, `no final message for ${label}`),
      followUps: () => record.followUps.flatMap((m) => this.world.get(m) ?? []),
    };
  }

  private expire(record: Record_): void {
    if (record.initialType !== null) return;
    record.dead = true;
    clearTimeout(record.timer);
    const error = new Error(
      `fake Discord: ${record.label} was not acknowledged within ${record.deadlineMs} ms`,
    );
    record.response.reject(error);
    record.final.reject(error);
  }

  /** `data` of a type 2 or 4 interaction for "cmd [group] [sub]" with options checked against the definition. */
  private commandData(
    name: string,
    given: Readonly<Record<string, FakeOptionValue>>,
    focused: { name: string; value: string } | null,
  ): { command: FakeCommand; data: JsonObject } {
    const [root, ...path] = name.trim().split(/\s+/);
    const command = root === undefined ? undefined : this.world.findChatInput(root);
    if (!command) throw new Error(`fake Discord: /${root ?? ''} is not a registered chat-input command`);
    let defs: readonly FakeCommandOption[] = command.options ?? [];
    const chain: FakeCommandOption[] = [];
    for (const part of path) {
      const def = defs.find(
        (o) => o.name === part && (o.type === OPTION.subcommand || o.type === OPTION.group),
      );
      if (!def) throw new Error(`fake Discord: /${name}: ${part} is not a sub-command`);
      chain.push(def);
      defs = def.options ?? [];
    }
    if (defs.some((o) => o.type === OPTION.subcommand || o.type === OPTION.group)) {
      throw new Error(`fake Discord: /${name} needs a sub-command`);
    }
    const resolved: Record<string, Record<string, unknown>> = {};
    let options = this.leafOptions(name, defs, given, focused, resolved);
    for (const def of chain.reverse()) {
      options = [{ name: def.name, type: def.type, ...(options.length > 0 ? { options } : {}) }];
    }
    return {
      command,
      data: {
        id: command.id,
        name: command.name,
        type: 1,
        ...(command.guild_id !== undefined ? { guild_id: command.guild_id } : {}),
        ...(options.length > 0 ? { options } : {}),
        ...(Object.keys(resolved).length > 0 ? { resolved } : {}),
      },
    };
  }

  private leafOptions(
    name: string,
    defs: readonly FakeCommandOption[],
    given: Readonly<Record<string, FakeOptionValue>>,
    focused: { name: string; value: string } | null,
    resolved: Record<string, Record<string, unknown>>,
  ): JsonObject[] {
    for (const key of Object.keys(given)) {
      if (!defs.some((d) => d.name === key)) throw new Error(`fake Discord: /${name} has no option ${key}`);
    }
    if (focused !== null) {
      const def = defs.find((d) => d.name === focused.name);
      if (!def?.autocomplete)
        throw new Error(`fake Discord: /${name} option ${focused.name} has no autocomplete`);
    }
    const out: JsonObject[] = [];
    for (const def of defs) {
      if (focused !== null && def.name === focused.name) {
        out.push({ name: def.name, type: def.type, value: focused.value, focused: true });
        continue;
      }
      const value = given[def.name];
      if (value === undefined) {
        if (def.required === true && focused === null) {
          throw new Error(`fake Discord: /${name} needs option ${def.name}`);
        }
        continue;
      }
      this.checkOptionValue(name, def, value, resolved);
      out.push({ name: def.name, type: def.type, value });
    }
    return out;
  }

  private checkOptionValue(
    name: string,
    def: FakeCommandOption,
    value: FakeOptionValue,
    resolved: Record<string, Record<string, unknown>>,
  ): void {
    const bad = (why: string): never => {
      throw new Error(`fake Discord: /${name} option ${def.name}: ${why}`);
    };
    const add = (kind: string, id: string, v: unknown): void => {
      resolved[kind] ??= {};
      resolved[kind]![id] = v;
    };
    switch (def.type) {
      case OPTION.string:
        if (typeof value !== 'string') bad('must be a string');
        if (def.min_length !== undefined && (value as string).length < def.min_length) bad('too short');
        if (def.max_length !== undefined && (value as string).length > def.max_length) bad('too long');
        break;
      case OPTION.integer:
      case OPTION.number:
        if (typeof value !== 'number' || !Number.isFinite(value)) bad('must be a number');
        if (def.type === OPTION.integer && !Number.isInteger(value)) bad('must be an integer');
        if (def.min_value !== undefined && (value as number) < def.min_value) bad(`below ${def.min_value}`);
        if (def.max_value !== undefined && (value as number) > def.max_value) bad(`above ${def.max_value}`);
        break;
      case OPTION.boolean:
        if (typeof value !== 'boolean') bad('must be a boolean');
        break;
      case OPTION.user:
      case OPTION.mentionable: {
        const user = typeof value === 'string' ? this.world.users.get(value) : undefined;
        if (user) {
          add('users', user.id, user);
          add('members', user.id, { ...this.world.memberFields(), permissions: GUILD_PERMISSIONS });
        } else if (def.type === OPTION.mentionable && value === this.world.guildId) {
          add('roles', value, this.world.everyoneRole());
        } else {
          bad('must be the id of a user the fake knows');
        }
        break;
      }
      case OPTION.channel: {
        const channel = typeof value === 'string' ? this.world.channelJson(value) : null;
        if (!channel) bad('must be the id of a guild channel');
        add('channels', value as string, { ...channel, permissions: GUILD_PERMISSIONS });
        break;
      }
      case OPTION.role:
        if (value !== this.world.guildId) bad('the only role is @everyone (the guild id)');
        add('roles', value as string, this.world.everyoneRole());
        break;
      default:
        bad(`option type ${def.type} is not supported by the fake`);
    }
    if (def.choices && def.choices.length > 0 && !def.choices.some((c) => c.value === value)) {
      bad(`${String(value)} is not one of the offered choices`);
    }
  }

  // ------------------------------------------------------------------------------------------ HTTP side

  /** POST /interactions/{id}/{token}/callback */
  callback(id: string, token: string, withResponse: boolean, payload: Payload): Reply {
    const record = this.byId.get(id);
    if (!record || record.token !== token) return fail(UNKNOWN_INTERACTION);
    if (record.initialType !== null) return fail(ALREADY_ACKNOWLEDGED);
    if (record.dead || Date.now() - record.dispatchedAt > record.deadlineMs) {
      this.expire(record);
      return fail(UNKNOWN_INTERACTION);
    }
    const body = payload.json;
    const type = isObject(body) ? body.type : undefined;
    const allowed = ALLOWED[record.type];
    if (typeof type !== 'number' || !allowed.includes(type)) {
      const errors = new FormErrors();
      errors.add(['type'], 'BASE_TYPE_CHOICES', `Value must be one of {${allowed.join(', ')}}.`);
      return fail(errors.toError());
    }
    const data = isObject(body) ? body.data : undefined;
    let message: FakeMessage | null = null;
    let final = false;
    switch (type) {
      case CALLBACK.message:
      case CALLBACK.deferMessage: {
        const checked = checkMessageBody(data);
        if ('error' in checked) return fail(checked.error);
        const deferred = type === CALLBACK.deferMessage;
        const fields = deferred ? { extras: false, ...pickFlags(checked.fields.flags) } : checked.fields;
        const created = this.world.createMessage(record.channelId, fields, deferred ? [] : payload.files, {
          type: record.type === INTERACTION.command ? 20 : 0,
          allowedFlags: deferred ? MESSAGE_FLAG_EPHEMERAL : INTERACTION_FLAGS,
          defaultMentions: RESPONSE_MENTIONS,
          ...(deferred ? { forcedFlags: MESSAGE_FLAG_LOADING } : {}),
          extra: this.responseMeta(record),
        });
        if (isApiError(created)) return fail(created);
        message = created;
        record.originalId = created.id;
        record.awaitingEdit = deferred;
        final = !deferred;
        break;
      }
      case CALLBACK.deferUpdate:
        record.originalId = record.sourceMessageId;
        record.awaitingEdit = true;
        break;
      case CALLBACK.update: {
        const checked = checkMessageBody(data);
        if ('error' in checked) return fail(checked.error);
        const updated = this.world.editMessage(record.sourceMessageId ?? '', checked.fields, payload.files, {
          endLoading: false,
          defaultMentions: RESPONSE_MENTIONS,
        });
        if (isApiError(updated)) return fail(updated);
        message = updated;
        record.originalId = updated.id;
        final = true;
        break;
      }
      case CALLBACK.choices: {
        const checked = checkChoices(data);
        if ('error' in checked) return fail(checked.error);
        break;
      }
      case CALLBACK.modal: {
        if (!isObject(data) || typeof data.custom_id !== 'string' || typeof data.title !== 'string') {
          const errors = new FormErrors();
          errors.add(['data', 'custom_id'], 'BASE_TYPE_REQUIRED', 'This field is required');
          return fail(errors.toError());
        }
        break;
      }
    }
    record.initialType = type;
    clearTimeout(record.timer);
    record.response.resolve({ type, data: data ?? null, at: Date.now(), message });
    if (final && message) record.final.resolve(message);
    if (!withResponse) return { status: 204 };
    return {
      status: 200,
      body: {
        interaction: {
          id: record.id,
          type: record.type,
          ...(message
            ? {
                response_message_id: message.id,
                response_message_loading: (message.flags & MESSAGE_FLAG_LOADING) !== 0,
                response_message_ephemeral: (message.flags & MESSAGE_FLAG_EPHEMERAL) !== 0,
              }
            : {}),
        },
        resource: { type, ...(message ? { message: World.toJson(message) } : {}) },
      },
    };
  }

  /** /webhooks/{app}/{token}[/messages/{id}] with an interaction token. */
  webhook(method: string, appId: string, token: string, messageId: string | null, payload: Payload): Reply {
    const record = this.byToken.get(token);
    if (
      appId !== this.world.applicationId ||
      !record ||
      record.initialType === null ||
      Date.now() - record.dispatchedAt > this.options.tokenTtlMs
    ) {
      return fail(UNKNOWN_WEBHOOK);
    }
    if (messageId === null) return this.followUp(record, payload);
    const targetId = messageId === '@original' ? record.originalId : messageId;
    if (targetId === null || (targetId !== record.originalId && !record.followUps.includes(targetId))) {
      return fail(UNKNOWN_MESSAGE);
    }
    const target = this.world.get(targetId);
    if (!target) return fail(UNKNOWN_MESSAGE);
    if (method === 'GET') return ok(target);
    if (method === 'DELETE') {
      this.world.deleteMessage(targetId);
      return { status: 204 };
    }
    const checked = checkMessageBody(payload.json);
    if ('error' in checked) return fail(checked.error);
    const endsDeferral = targetId === record.originalId && record.awaitingEdit;
    const edited = this.world.editMessage(targetId, checked.fields, payload.files, {
      endLoading: endsDeferral,
      defaultMentions: RESPONSE_MENTIONS,
    });
    if (isApiError(edited)) return fail(edited);
    if (endsDeferral) {
      record.awaitingEdit = false;
      record.final.resolve(edited);
    }
    return ok(edited);
  }

  private followUp(record: Record_, payload: Payload): Reply {
    const checked = checkMessageBody(payload.json);
    if ('error' in checked) return fail(checked.error);
    if (record.initialType === CALLBACK.deferMessage && record.awaitingEdit && record.originalId !== null) {
      const edited = this.world.editMessage(record.originalId, checked.fields, payload.files, {
        endLoading: true,
        defaultMentions: RESPONSE_MENTIONS,
      });
      if (isApiError(edited)) return fail(edited);
      record.awaitingEdit = false;
      record.final.resolve(edited);
      return ok(edited);
    }
    const created = this.world.createMessage(record.channelId, checked.fields, payload.files, {
      type: record.type === INTERACTION.command ? 20 : 0,
      allowedFlags: INTERACTION_FLAGS,
      defaultMentions: RESPONSE_MENTIONS,
      extra: this.responseMeta(record),
    });
    if (isApiError(created)) return fail(created);
    record.followUps.push(created.id);
    return ok(created);
  }

  private responseMeta(record: Record_): JsonObject {
    const metadata: JsonObject = {
      id: record.id,
      type: record.type,
      user: record.user,
      authorizing_integration_owners: { '0': this.world.guildId },
      ...(record.commandName !== null ? { name: record.commandName, command_type: 1 } : {}),
      ...(record.sourceMessageId !== null ? { interacted_message_id: record.sourceMessageId } : {}),
    };
    return {
      webhook_id: this.world.applicationId,
      application_id: this.world.applicationId,
      interaction_metadata: metadata,
      ...(record.commandName !== null
        ? { interaction: { id: record.id, type: record.type, name: record.commandName, user: record.user } }
        : {}),
    };
  }
}

function pickFlags(flags: number | undefined): { flags?: number } {
  return flags === undefined ? {} : { flags };
}

function findComponent(components: readonly FakeComponent[], customId: string): FakeComponent | undefined {
  for (const c of components) {
    if (c.custom_id === customId) return c;
    const inner = c.components ? findComponent(c.components, customId) : undefined;
    if (inner) return inner;
  }
  return undefined;
}
