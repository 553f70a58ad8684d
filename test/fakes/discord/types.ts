/** Public types of the fake Discord (server.ts). Field names follow Discord's JSON (snake_case) on purpose. */

/** A human user as a test names one; the fake fills in the rest of Discord's user object. */
export interface FakeDiscordUser {
  readonly id: string;
  readonly username: string;
  /** A member with the ADMINISTRATOR permission: sees and may use every command, whatever its defaults. */
  readonly admin?: boolean;
}

/**
 * An application command permission overwrite (Server Settings > Integrations in the client): `id` is a user, a role
 * (the guild id is @everyone) or a channel (the guild id minus 1 is every channel).
 */
export interface FakeCommandPermission {
  readonly id: string;
  /** 1 ROLE, 2 USER, 3 CHANNEL. */
  readonly type: 1 | 2 | 3;
  readonly permission: boolean;
}

/** Discord's user object as the fake sends it. */
export interface FakeApiUser {
  readonly id: string;
  readonly username: string;
  readonly discriminator: string;
  readonly global_name: string | null;
  readonly avatar: null;
  readonly bot?: boolean;
  readonly public_flags: number;
  readonly flags: number;
}

export interface FakeDiscordOptions {
  /** Bot token; a realistic-looking one is made up when absent. */
  readonly token?: string;
  readonly applicationId?: string;
  readonly botUsername?: string;
  readonly guildName?: string;
  /** op 10 heartbeat_interval; Discord sends about 41250. */
  readonly heartbeatIntervalMs?: number;
  /** Time from dispatch within which the first interaction callback must arrive (Discord: 3 s). */
  readonly interactionDeadlineMs?: number;
  /** Lifetime of an interaction token for the webhook routes (Discord: 15 min). */
  readonly interactionTokenTtlMs?: number;
  /** Budget of every rate-limit bucket (route + major parameter), reported in X-RateLimit-* and enforced. */
  readonly rateLimit?: { readonly limit: number; readonly windowMs: number };
  /** Privileged intent bits this application may use (GUILD_MEMBERS 1<<1, GUILD_PRESENCES 1<<8, MESSAGE_CONTENT 1<<15). */
  readonly privilegedIntents?: number;
  /** Largest single upload in bytes (interaction payloads carry it as attachment_size_limit). */
  readonly attachmentSizeLimit?: number;
}

export interface FakeAttachment {
  readonly id: string;
  readonly filename: string;
  readonly size: number;
  /** Served by the fake itself, so a test can fetch it. */
  readonly url: string;
  readonly proxy_url: string;
  readonly content_type?: string;
  readonly width?: number;
  readonly height?: number;
  readonly description?: string;
  readonly ephemeral?: boolean;
  /** The uploaded bytes; not part of Discord's JSON and stripped from HTTP answers. */
  readonly data: Buffer;
}

export interface FakeEmbedField {
  readonly name: string;
  readonly value: string;
  readonly inline?: boolean;
}

export interface FakeEmbed {
  readonly [key: string]: unknown;
  readonly type?: string;
  readonly title?: string;
  readonly description?: string;
  readonly url?: string;
  readonly color?: number;
  readonly timestamp?: string;
  readonly fields?: readonly FakeEmbedField[];
  readonly footer?: { readonly text: string; readonly icon_url?: string };
  readonly author?: { readonly name: string; readonly url?: string; readonly icon_url?: string };
  readonly image?: { readonly url: string; readonly width?: number; readonly height?: number };
  readonly thumbnail?: { readonly url: string; readonly width?: number; readonly height?: number };
}

export interface FakeComponent {
  readonly [key: string]: unknown;
  readonly type: number;
  readonly id?: number;
  readonly custom_id?: string;
  readonly label?: string;
  readonly style?: number;
  readonly url?: string;
  readonly disabled?: boolean;
  readonly components?: readonly FakeComponent[];
}

export interface FakeMessage {
  readonly id: string;
  /** 0 DEFAULT for channel posts, 20 CHAT_INPUT_COMMAND for slash-command responses. */
  readonly type: number;
  readonly channel_id: string;
  readonly author: FakeApiUser;
  readonly content: string;
  readonly timestamp: string;
  readonly edited_timestamp: string | null;
  readonly tts: boolean;
  readonly mention_everyone: boolean;
  readonly mentions: readonly unknown[];
  readonly mention_roles: readonly string[];
  readonly pinned: boolean;
  readonly attachments: readonly FakeAttachment[];
  readonly embeds: readonly FakeEmbed[];
  readonly components: readonly FakeComponent[];
  /** 64 EPHEMERAL, 128 LOADING (a deferred response not edited yet). */
  readonly flags: number;
  readonly webhook_id?: string;
  readonly application_id?: string;
  readonly interaction_metadata?: Readonly<Record<string, unknown>>;
  readonly interaction?: Readonly<Record<string, unknown>>;
}

export interface FakeCommandOption {
  readonly type: number;
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
  readonly autocomplete?: boolean;
  readonly choices?: readonly { readonly name: string; readonly value: string | number }[];
  readonly options?: readonly FakeCommandOption[];
  readonly min_value?: number;
  readonly max_value?: number;
  readonly min_length?: number;
  readonly max_length?: number;
  readonly [key: string]: unknown;
}

export interface FakeCommand {
  readonly id: string;
  readonly application_id: string;
  readonly version: string;
  readonly type: number;
  readonly name: string;
  readonly description: string;
  /** Present on guild commands only. */
  readonly guild_id?: string;
  readonly options?: readonly FakeCommandOption[];
  readonly default_member_permissions: string | null;
  readonly nsfw: boolean;
  readonly [key: string]: unknown;
}

export interface FakeCall {
  readonly method: string;
  /** Without the /api/v10 prefix, e.g. /channels/123/messages. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly status: number;
  /** JSON body, or the parsed payload_json of a multipart body. */
  readonly body: unknown;
  readonly files: readonly { readonly field: string; readonly filename: string; readonly size: number }[];
  readonly authorized: boolean;
  readonly at: number;
}

export interface FakeChoice {
  readonly name: string;
  readonly value: string | number;
}

/** The first accepted interaction callback. */
export interface FakeInteractionResponse {
  readonly type: number;
  readonly data: unknown;
  readonly at: number;
  /** The message the callback created or updated (types 4, 5, 7), as it was right after the callback. */
  readonly message: FakeMessage | null;
}

export interface FakeInteraction {
  readonly id: string;
  readonly token: string;
  /** The first accepted callback; rejects when none arrived within the deadline. */
  response(): Promise<FakeInteractionResponse>;
  /**
   * The message the user finally sees: the type 4 / 7 message, or the @original after the edit (or first follow-up)
   * that ends a deferral. Rejects after timeoutMs (default 10 s) or when the interaction was never acknowledged.
   */
  final(timeoutMs?: number): Promise<FakeMessage>;
  /** Follow-up messages created so far through POST /webhooks/{app}/{token}. */
  followUps(): FakeMessage[];
}

export type FakeOptionValue = string | number | boolean;

export interface FakeGatewayStats {
  readonly connections: number;
  readonly identifies: number;
  readonly resumes: number;
  readonly heartbeats: number;
}

export interface FakeDiscord {
  /** For discord.js `rest.api`, e.g. http://127.0.0.1:12345/api (the client appends /v10). */
  readonly apiRoot: string;
  readonly gatewayUrl: string;
  readonly token: string;
  readonly applicationId: string;
  readonly guildId: string;
  /** Text channel #alerts. */
  readonly alertChannelId: string;
  /** Text channel #commands, where slash commands are invoked unless told otherwise. */
  readonly commandChannelId: string;
  readonly botUser: FakeApiUser;
  /**
   * Dispatches INTERACTION_CREATE type 2 for a registered chat-input command. `name` may be "cmd sub" or
   * "cmd group sub"; option values are checked against the registered definition as Discord's client does.
   */
  slash(
    user: FakeDiscordUser,
    name: string,
    options?: Readonly<Record<string, FakeOptionValue>>,
    at?: { readonly channelId?: string },
  ): FakeInteraction;
  /** Dispatches INTERACTION_CREATE type 3 (button) for the current state of a stored message. */
  press(user: FakeDiscordUser, message: FakeMessage | string, customId: string): FakeInteraction;
  /** Dispatches INTERACTION_CREATE type 4 with `focusedOption` typed as `value`; resolves to the choices. */
  autocomplete(
    user: FakeDiscordUser,
    name: string,
    focusedOption: string,
    value: string,
    otherOptions?: Readonly<Record<string, FakeOptionValue>>,
  ): Promise<FakeChoice[]>;
  /** Visible messages (not ephemeral, not deleted), oldest first. */
  channelMessages(channelId: string): FakeMessage[];
  message(id: string): FakeMessage | undefined;
  /** First visible message (already there or created/edited later) matching the predicate. */
  waitForChannelMessage(predicate: (m: FakeMessage) => boolean, timeoutMs?: number): Promise<FakeMessage>;
  registeredCommands(): FakeCommand[];
  /**
   * What a server admin sets in Server Settings > Integrations: overwrites for every command of the app (no command
   * name) or for one command, replacing the previous ones of that scope. Members without the permission to use a
   * command do not see it: slash() and autocomplete() refuse them, as Discord's client would.
   */
  setCommandPermissions(permissions: readonly FakeCommandPermission[], commandName?: string): void;
  calls(routePrefix?: string): FakeCall[];
  /** Answers the next n POST /channels/{id}/messages with 429. */
  rateLimitNext(n: number, retryAfterSeconds: number, options?: { readonly global?: boolean }): void;
  /** Deadline for interactions dispatched from now on. */
  setInteractionDeadline(ms: number): void;
  /** Cuts every gateway socket without a close frame (the client resumes). */
  dropGateway(): void;
  gatewayStats(): FakeGatewayStats;
  close(): Promise<void>;
}
