import type { FakeChoice, FakeCommandOption, FakeComponent, FakeEmbed } from './types.js';
import { charLength, isObject, type JsonObject } from './util.js';

/*
 * Request-body checks of the fake Discord (protocols.md 4.1, 4.3), answering as Discord does: HTTP 400 with
 * `{"code":50035,"message":"Invalid Form Body","errors":{...}}`, the errors nested by JSON path down to `_errors`.
 * The error codes and texts inside `errors` are the ones Discord is seen to send; the exact text of each is unverified.
 */

export interface ApiError {
  readonly status: number;
  readonly body: JsonObject;
}

export function apiError(status: number, code: number, message: string, extra: JsonObject = {}): ApiError {
  return { status, body: { message, code, ...extra } };
}

/** Discord's nested form-error object. */
export class FormErrors {
  private readonly root: JsonObject = {};
  private count = 0;

  add(path: readonly (string | number)[], code: string, message: string): void {
    let node = this.root;
    for (const segment of path) {
      const key = String(segment);
      const child = node[key];
      if (isObject(child)) {
        node = child;
      } else {
        const fresh: JsonObject = {};
        node[key] = fresh;
        node = fresh;
      }
    }
    const list = Array.isArray(node._errors) ? (node._errors as unknown[]) : [];
    list.push({ code, message });
    node._errors = list;
    this.count += 1;
  }

  get empty(): boolean {
    return this.count === 0;
  }

  toError(): ApiError {
    return apiError(400, 50035, 'Invalid Form Body', { errors: this.root });
  }
}

type Path = readonly (string | number)[];

function maxLength(errors: FormErrors, path: Path, value: unknown, max: number, required = false): number {
  if (value === undefined || value === null) {
    if (required) errors.add(path, 'BASE_TYPE_REQUIRED', 'This field is required');
    return 0;
  }
  if (typeof value !== 'string') {
    errors.add(path, 'BASE_TYPE_STRING', 'Must be a valid string.');
    return 0;
  }
  const n = charLength(value);
  if (required && n < 1) errors.add(path, 'BASE_TYPE_BAD_LENGTH', `Must be between 1 and ${max} in length.`);
  else if (n > max) errors.add(path, 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
  return n;
}

function bounded(errors: FormErrors, path: Path, value: unknown, min: number, max: number): void {
  if (typeof value !== 'string') {
    errors.add(
      path,
      value === undefined ? 'BASE_TYPE_REQUIRED' : 'BASE_TYPE_STRING',
      'Must be a valid string.',
    );
    return;
  }
  const n = charLength(value);
  if (n < min || n > max)
    errors.add(path, 'BASE_TYPE_BAD_LENGTH', `Must be between ${min} and ${max} in length.`);
}

// ------------------------------------------------------------------------------------------------ messages

export const MESSAGE_FLAG_EPHEMERAL = 1 << 6;
export const MESSAGE_FLAG_LOADING = 1 << 7;
const MESSAGE_FLAG_COMPONENTS_V2 = 1 << 15;
const SELECT_TYPES = new Set([3, 5, 6, 7, 8]);

export interface AttachmentRef {
  readonly id: string;
  readonly filename?: string;
  readonly description?: string;
}

export type MentionType = 'users' | 'roles' | 'everyone';
const MENTION_TYPES: readonly string[] = ['users', 'roles', 'everyone'];

export interface AllowedMentions {
  readonly parse?: readonly MentionType[];
  readonly users?: readonly string[];
  readonly roles?: readonly string[];
  readonly replied_user?: boolean;
}

/** The message fields a create or edit body carries; absent means "not given" (an edit keeps the old value). */
export interface MessageFields {
  readonly content?: string;
  /** allowed_mentions as sent; absent: the route's default applies. */
  readonly allowedMentions?: AllowedMentions;
  readonly embeds?: FakeEmbed[];
  readonly components?: FakeComponent[];
  readonly flags?: number;
  readonly attachments?: AttachmentRef[];
  readonly tts?: boolean;
  /** Stickers or a poll: they make a message non-empty but the fake does not store them. */
  readonly extras: boolean;
}

function checkEmbeds(errors: FormErrors, raw: unknown): FakeEmbed[] {
  if (!Array.isArray(raw)) {
    errors.add(['embeds'], 'BASE_TYPE_ARRAY', 'Must be an array.');
    return [];
  }
  if (raw.length > 10) errors.add(['embeds'], 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
  let total = 0;
  const out: FakeEmbed[] = [];
  raw.forEach((embed: unknown, i) => {
    const at = ['embeds', i];
    if (!isObject(embed)) {
      errors.add(at, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
      return;
    }
    total += maxLength(errors, [...at, 'title'], embed.title, 256);
    total += maxLength(errors, [...at, 'description'], embed.description, 4096);
    if (embed.color !== undefined && embed.color !== null) {
      const c = embed.color;
      if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > 0xffffff) {
        errors.add(
          [...at, 'color'],
          'NUMBER_TYPE_MAX',
          'int value should be less than or equal to 16777215.',
        );
      }
    }
    if (isObject(embed.footer))
      total += maxLength(errors, [...at, 'footer', 'text'], embed.footer.text, 2048, true);
    if (isObject(embed.author))
      total += maxLength(errors, [...at, 'author', 'name'], embed.author.name, 256, true);
    if (embed.fields !== undefined && embed.fields !== null) {
      if (!Array.isArray(embed.fields)) {
        errors.add([...at, 'fields'], 'BASE_TYPE_ARRAY', 'Must be an array.');
      } else {
        if (embed.fields.length > 25) {
          errors.add([...at, 'fields'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
        }
        embed.fields.forEach((field: unknown, j) => {
          const fat = [...at, 'fields', j];
          if (!isObject(field)) {
            errors.add(fat, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
            return;
          }
          total += maxLength(errors, [...fat, 'name'], field.name, 256, true);
          total += maxLength(errors, [...fat, 'value'], field.value, 1024, true);
        });
      }
    }
    out.push({ type: 'rich', ...embed } as FakeEmbed);
  });
  if (total > 6000)
    errors.add(['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000');
  return out;
}

function checkButton(errors: FormErrors, at: Path, button: JsonObject, customIds: Set<string>): void {
  const style = button.style;
  if (typeof style !== 'number' || !Number.isInteger(style) || style < 1 || style > 6) {
    errors.add([...at, 'style'], 'BASE_TYPE_CHOICES', 'Value must be one of {1, 2, 3, 4, 5, 6}.');
    return;
  }
  if (button.label !== undefined) maxLength(errors, [...at, 'label'], button.label, 80);
  if (style === 5) {
    if (typeof button.url !== 'string')
      errors.add([...at, 'url'], 'BASE_TYPE_REQUIRED', 'This field is required');
    if (button.custom_id !== undefined) {
      errors.add(
        [...at, 'custom_id'],
        'BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED',
        'A custom id is not allowed',
      );
    }
    return;
  }
  if (style === 6) return;
  if (button.url !== undefined)
    errors.add([...at, 'url'], 'BUTTON_COMPONENT_URL_NOT_ALLOWED', 'A url is not allowed');
  checkCustomId(errors, at, button.custom_id, customIds);
}

function checkCustomId(errors: FormErrors, at: Path, customId: unknown, seen: Set<string>): void {
  bounded(errors, [...at, 'custom_id'], customId, 1, 100);
  if (typeof customId !== 'string') return;
  if (seen.has(customId)) {
    errors.add(
      [...at, 'custom_id'],
      'COMPONENT_CUSTOM_ID_DUPLICATED',
      'Component custom id cannot be duplicated',
    );
  }
  seen.add(customId);
}

/** Classic action rows; components v2 (flag 1<<15) are passed through unchecked. */
function checkComponents(errors: FormErrors, raw: unknown, flags: number): FakeComponent[] {
  if (!Array.isArray(raw)) {
    errors.add(['components'], 'BASE_TYPE_ARRAY', 'Must be an array.');
    return [];
  }
  let nextId = 1;
  const withId = (c: JsonObject): FakeComponent =>
    ({ ...c, id: typeof c.id === 'number' ? c.id : nextId++ }) as FakeComponent;
  if ((flags & MESSAGE_FLAG_COMPONENTS_V2) !== 0) return raw.filter(isObject).map(withId);
  if (raw.length > 5) errors.add(['components'], 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
  const customIds = new Set<string>();
  const rows: FakeComponent[] = [];
  raw.forEach((row: unknown, i) => {
    const at = ['components', i];
    if (!isObject(row) || row.type !== 1) {
      errors.add([...at, 'type'], 'UNION_TYPE_CHOICES', 'Value of field "type" must be one of (1,).');
      return;
    }
    const children = Array.isArray(row.components) ? row.components : [];
    if (children.length < 1 || children.length > 5) {
      errors.add([...at, 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
    }
    const rowId = withId(row);
    const normalized: FakeComponent[] = [];
    children.forEach((child: unknown, j) => {
      const cat = [...at, 'components', j];
      if (!isObject(child)) {
        errors.add(cat, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
        return;
      }
      if (child.type === 2) {
        checkButton(errors, cat, child, customIds);
      } else if (typeof child.type === 'number' && SELECT_TYPES.has(child.type)) {
        checkCustomId(errors, cat, child.custom_id, customIds);
        if (children.length !== 1) {
          errors.add(
            [...at, 'components'],
            'COMPONENT_LAYOUT_WIDTH_EXCEEDED',
            'The specified component exceeds the maximum width',
          );
        }
        if (child.type === 3) {
          const options = Array.isArray(child.options) ? child.options : [];
          if (options.length < 1 || options.length > 25) {
            errors.add([...cat, 'options'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 25 in length.');
          }
        }
      } else {
        errors.add(
          [...cat, 'type'],
          'UNION_TYPE_CHOICES',
          'Value of field "type" must be one of (2, 3, 5, 6, 7, 8).',
        );
      }
      normalized.push(withId(child));
    });
    rows.push({ ...rowId, components: normalized });
  });
  return rows;
}

function checkAttachments(errors: FormErrors, raw: unknown): AttachmentRef[] {
  if (!Array.isArray(raw)) {
    errors.add(['attachments'], 'BASE_TYPE_ARRAY', 'Must be an array.');
    return [];
  }
  const out: AttachmentRef[] = [];
  raw.forEach((a: unknown, i) => {
    if (!isObject(a) || (typeof a.id !== 'string' && typeof a.id !== 'number')) {
      errors.add(['attachments', i, 'id'], 'BASE_TYPE_REQUIRED', 'This field is required');
      return;
    }
    out.push({
      id: String(a.id),
      ...(typeof a.filename === 'string' ? { filename: a.filename } : {}),
      ...(typeof a.description === 'string' ? { description: a.description } : {}),
    });
  });
  return out;
}

/**
 * allowed_mentions [DD resources/message]: parse holds only users/roles/everyone; users and roles at most 100 ids each;
 * parse "users" with a users list (or "roles" with roles) is the documented invalid combination. The error codes and
 * texts are the fake's (unverified).
 */
function checkAllowedMentions(errors: FormErrors, raw: unknown): AllowedMentions | undefined {
  if (raw === undefined || raw === null) return undefined;
  const at = ['allowed_mentions'];
  if (!isObject(raw)) {
    errors.add(at, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
    return undefined;
  }
  const ids = (key: 'users' | 'roles'): string[] | undefined => {
    const list = raw[key];
    if (list === undefined || list === null) return undefined;
    if (!Array.isArray(list) || !list.every((id) => typeof id === 'string' && /^\d+$/.test(id))) {
      errors.add([...at, key], 'BASE_TYPE_ARRAY', 'Must be an array of snowflakes.');
      return undefined;
    }
    if (list.length > 100)
      errors.add([...at, key], 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
    return list as string[];
  };
  let parse: MentionType[] | undefined;
  if (raw.parse !== undefined && raw.parse !== null) {
    if (!Array.isArray(raw.parse)) {
      errors.add([...at, 'parse'], 'BASE_TYPE_ARRAY', 'Must be an array.');
    } else {
      raw.parse.forEach((t: unknown, i) => {
        if (typeof t !== 'string' || !MENTION_TYPES.includes(t)) {
          errors.add(
            [...at, 'parse', i],
            'BASE_TYPE_CHOICES',
            "Value must be one of ('users', 'roles', 'everyone').",
          );
        }
      });
      parse = raw.parse.filter((t: unknown): t is MentionType => MENTION_TYPES.includes(String(t)));
    }
  }
  const users = ids('users');
  const roles = ids('roles');
  for (const [type, list] of [
    ['users', users],
    ['roles', roles],
  ] as const) {
    if (parse?.includes(type) && list !== undefined && list.length > 0) {
      errors.add(
        [...at, 'parse'],
        'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE',
        `parse:["${type}"] and ${type}: [ids] are mutually exclusive.`,
      );
    }
  }
  return {
    ...(parse !== undefined ? { parse } : {}),
    ...(users !== undefined ? { users } : {}),
    ...(roles !== undefined ? { roles } : {}),
    ...(typeof raw.replied_user === 'boolean' ? { replied_user: raw.replied_user } : {}),
  };
}

/** Checks a message create/edit body; `null` for embeds/components/attachments means "clear" as Discord reads it. */
export function checkMessageBody(body: unknown): { fields: MessageFields } | { error: ApiError } {
  if (body === undefined || body === null) return { fields: { extras: false } };
  if (!isObject(body)) return { error: apiError(400, 50109, 'The request body contains invalid JSON.') };
  const errors = new FormErrors();
  const flags = typeof body.flags === 'number' && Number.isInteger(body.flags) ? body.flags : 0;
  if (body.flags !== undefined && body.flags !== null && typeof body.flags !== 'number') {
    errors.add(['flags'], 'NUMBER_TYPE_COERCE', `Value "${String(body.flags)}" is not int.`);
  }
  let content: string | undefined;
  if (body.content === null) content = '';
  else if (body.content !== undefined) {
    maxLength(errors, ['content'], body.content, 2000);
    content = typeof body.content === 'string' ? body.content : undefined;
  }
  const embeds =
    body.embeds === undefined ? undefined : body.embeds === null ? [] : checkEmbeds(errors, body.embeds);
  const components =
    body.components === undefined
      ? undefined
      : body.components === null
        ? []
        : checkComponents(errors, body.components, flags);
  const allowedMentions = checkAllowedMentions(errors, body.allowed_mentions);
  const attachments =
    body.attachments === undefined
      ? undefined
      : body.attachments === null
        ? []
        : checkAttachments(errors, body.attachments);
  if (!errors.empty) return { error: errors.toError() };
  const extras =
    (Array.isArray(body.sticker_ids) && body.sticker_ids.length > 0) ||
    (body.poll !== undefined && body.poll !== null);
  return {
    fields: {
      extras,
      ...(content !== undefined ? { content } : {}),
      ...(allowedMentions !== undefined ? { allowedMentions } : {}),
      ...(embeds !== undefined ? { embeds } : {}),
      ...(components !== undefined ? { components } : {}),
      ...(attachments !== undefined ? { attachments } : {}),
      ...(body.flags !== undefined && body.flags !== null ? { flags } : {}),
      ...(typeof body.tts === 'boolean' ? { tts: body.tts } : {}),
    },
  };
}

export const EMPTY_MESSAGE = apiError(400, 50006, 'Cannot send an empty message');

// ------------------------------------------------------------------------------------------------ commands

const CHAT_INPUT = 1;
const NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
const OPTION_TYPES = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
const CHOICE_TYPES = new Set([3, 4, 10]);

/** Chat-input names: the regex of protocols.md 4.3 and lowercase wherever a lowercase form exists. */
function checkName(errors: FormErrors, at: Path, name: unknown, code: string): void {
  if (typeof name !== 'string' || !NAME.test(name) || name !== name.toLowerCase()) {
    errors.add(
      [...at, 'name'],
      code,
      code === 'APPLICATION_COMMAND_INVALID_NAME' ? 'Command name is invalid' : 'Option name is invalid',
    );
  }
}

function checkOptions(errors: FormErrors, at: Path, raw: unknown, depth: number): void {
  if (raw === undefined || raw === null) return;
  if (!Array.isArray(raw)) {
    errors.add([...at, 'options'], 'BASE_TYPE_ARRAY', 'Must be an array.');
    return;
  }
  if (raw.length > 25)
    errors.add([...at, 'options'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
  const names = new Set<string>();
  let sawOptional = false;
  let subcommands = 0;
  raw.forEach((option: unknown, i) => {
    const oat = [...at, 'options', i];
    if (!isObject(option)) {
      errors.add(oat, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
      return;
    }
    const type = option.type;
    if (typeof type !== 'number' || !OPTION_TYPES.has(type)) {
      errors.add(
        [...oat, 'type'],
        'BASE_TYPE_CHOICES',
        'Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.',
      );
      return;
    }
    checkName(errors, oat, option.name, 'APPLICATION_COMMAND_OPTION_INVALID_NAME');
    if (typeof option.name === 'string') {
      if (names.has(option.name)) {
        errors.add(
          [...oat, 'name'],
          'APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS',
          'Option names must be unique',
        );
      }
      names.add(option.name);
    }
    bounded(errors, [...oat, 'description'], option.description, 1, 100);
    if (type === 1 || type === 2) {
      subcommands += 1;
      if (depth >= (type === 2 ? 1 : 2)) {
        errors.add(
          [...oat, 'type'],
          'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
          'Sub-command nesting is too deep',
        );
      }
      if (type === 2) {
        const children = Array.isArray(option.options) ? option.options : [];
        if (children.some((c: unknown) => !isObject(c) || c.type !== 1)) {
          errors.add(
            [...oat, 'options'],
            'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
            'Groups may only hold sub-commands',
          );
        }
      }
      checkOptions(errors, oat, option.options, depth + 1);
      return;
    }
    if (option.required === true && sawOptional) {
      errors.add(
        [...oat, 'required'],
        'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
        'Required options must be placed before non-required options',
      );
    }
    if (option.required !== true) sawOptional = true;
    if (option.choices !== undefined && option.choices !== null) {
      if (!CHOICE_TYPES.has(type) || !Array.isArray(option.choices)) {
        errors.add(
          [...oat, 'choices'],
          'APPLICATION_COMMAND_OPTION_CHOICES_INVALID',
          'Choices are not allowed here',
        );
      } else {
        if (option.choices.length > 25) {
          errors.add([...oat, 'choices'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
        }
        if (option.autocomplete === true && option.choices.length > 0) {
          errors.add(
            [...oat, 'autocomplete'],
            'APPLICATION_COMMAND_AUTOCOMPLETE_INVALID',
            'Autocomplete cannot be used with choices',
          );
        }
        option.choices.forEach((choice: unknown, j) => {
          if (!isObject(choice)) return;
          bounded(errors, [...oat, 'choices', j, 'name'], choice.name, 1, 100);
        });
      }
    }
  });
  if (subcommands > 0 && subcommands !== raw.length) {
    errors.add(
      [...at, 'options'],
      'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
      'Sub-commands cannot be mixed with options',
    );
  }
}

export interface CommandInput {
  readonly type: number;
  readonly name: string;
  readonly description: string;
  readonly options?: FakeCommandOption[];
  readonly raw: JsonObject;
}

/** Bulk-overwrite body: an array of commands; names unique per type; 100 chat-input commands at most. */
export function checkCommands(body: unknown): { commands: CommandInput[] } | { error: ApiError } {
  if (!Array.isArray(body)) return { error: new FormErrors().toError() };
  const errors = new FormErrors();
  const seen = new Set<string>();
  const out: CommandInput[] = [];
  let chatInput = 0;
  body.forEach((command: unknown, i) => {
    if (!isObject(command)) {
      errors.add([i], 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
      return;
    }
    const type = command.type === undefined || command.type === null ? CHAT_INPUT : command.type;
    if (typeof type !== 'number' || ![1, 2, 3, 4].includes(type)) {
      errors.add([i, 'type'], 'BASE_TYPE_CHOICES', 'Value must be one of {1, 2, 3, 4}.');
      return;
    }
    if (type === CHAT_INPUT) {
      chatInput += 1;
      checkName(errors, [i], command.name, 'APPLICATION_COMMAND_INVALID_NAME');
      bounded(errors, [i, 'description'], command.description, 1, 100);
      checkOptions(errors, [i], command.options, 0);
    } else {
      bounded(errors, [i, 'name'], command.name, 1, 32);
      if (typeof command.description === 'string' && command.description !== '') {
        errors.add(
          [i, 'description'],
          'APPLICATION_COMMAND_DESCRIPTION_INVALID',
          'Description must be empty',
        );
      }
    }
    const dmp = command.default_member_permissions;
    if (dmp !== undefined && dmp !== null && (typeof dmp !== 'string' || !/^\d{1,20}$/.test(dmp))) {
      errors.add(
        [i, 'default_member_permissions'],
        'BASE_TYPE_STRING',
        'Must be a permissions bit set as a string.',
      );
    }
    if (command.contexts !== undefined && command.contexts !== null) {
      const contexts = command.contexts;
      if (!Array.isArray(contexts) || contexts.some((c: unknown) => c !== 0 && c !== 1 && c !== 2)) {
        errors.add([i, 'contexts'], 'BASE_TYPE_CHOICES', 'Value must be one of {0, 1, 2}.');
      }
    }
    const key = `${type}:${String(command.name)}`;
    if (seen.has(key)) {
      errors.add(
        [i, 'name'],
        'APPLICATION_COMMANDS_DUPLICATE_NAME',
        'Application command names must be unique',
      );
    }
    seen.add(key);
    out.push({
      type,
      name: String(command.name),
      description: typeof command.description === 'string' ? command.description : '',
      ...(Array.isArray(command.options) && command.options.length > 0
        ? { options: command.options as FakeCommandOption[] }
        : {}),
      raw: command,
    });
  });
  if (!errors.empty) return { error: errors.toError() };
  if (chatInput > 100)
    return { error: apiError(400, 30032, 'Maximum number of application commands reached (100)') };
  return { commands: out };
}

// ------------------------------------------------------------------------------------------------ autocomplete

export function checkChoices(data: unknown): { choices: FakeChoice[] } | { error: ApiError } {
  const errors = new FormErrors();
  const raw = isObject(data) ? data.choices : undefined;
  if (!Array.isArray(raw)) {
    errors.add(['data', 'choices'], 'BASE_TYPE_REQUIRED', 'This field is required');
    return { error: errors.toError() };
  }
  if (raw.length > 25)
    errors.add(['data', 'choices'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
  const choices: FakeChoice[] = [];
  raw.forEach((choice: unknown, i) => {
    const at = ['data', 'choices', i];
    if (!isObject(choice)) {
      errors.add(at, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
      return;
    }
    bounded(errors, [...at, 'name'], choice.name, 1, 100);
    if (typeof choice.value === 'string') maxLength(errors, [...at, 'value'], choice.value, 100);
    else if (typeof choice.value !== 'number') {
      errors.add([...at, 'value'], 'BASE_TYPE_REQUIRED', 'This field is required');
    }
    if (
      typeof choice.name === 'string' &&
      (typeof choice.value === 'string' || typeof choice.value === 'number')
    ) {
      choices.push({ name: choice.name, value: choice.value });
    }
  });
  return errors.empty ? { choices } : { error: errors.toError() };
}
