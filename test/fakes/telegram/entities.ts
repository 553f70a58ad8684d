/*
 * parse_mode handling for the fake Telegram Bot API, following TDLib's td/telegram/MessageEntity.cpp (parse_markdown,
 * parse_markdown_v2, parse_html; tdlib/td @000da35). Telegram parses on bytes: error offsets are UTF-8 byte offsets
 * while entity offsets and lengths are UTF-16 code units, so the parsers walk a byte array like TDLib does.
 * Simplified: links are checked loosely (http/https/tg/ton schemes kept, a bare host gets http://, anything else drops
 * the entity as TDLib does with an unchecked link); tg://user links stay text_link instead of text_mention;
 * custom emoji ids are not checked against Telegram.
 */

export interface MessageEntity {
  readonly type: string;
  readonly offset: number;
  readonly length: number;
  readonly url?: string;
  readonly language?: string;
  readonly custom_emoji_id?: string;
}

/** A parse failure; the message is TDLib's, the API prefixes it with "can't parse entities: ". */
export class EntityParseError extends Error {}

export interface FormattedText {
  readonly text: string;
  readonly entities: MessageEntity[];
}

type Kind =
  | 'Bold'
  | 'Italic'
  | 'Underline'
  | 'Strikethrough'
  | 'Spoiler'
  | 'Code'
  | 'Pre'
  | 'PreCode'
  | 'TextUrl'
  | 'CustomEmoji'
  | 'BlockQuote';

interface Draft {
  kind: Kind;
  offset: number;
  length: number;
  argument: string;
}

const API_TYPE: Record<Kind, string> = {
  Bold: 'bold',
  Italic: 'italic',
  Underline: 'underline',
  Strikethrough: 'strikethrough',
  Spoiler: 'spoiler',
  Code: 'code',
  Pre: 'pre',
  PreCode: 'pre',
  TextUrl: 'text_link',
  CustomEmoji: 'custom_emoji',
  BlockQuote: 'blockquote',
};

const BS = 0x5c; // '\'
const NL = 0x0a;

function ch(s: string): number {
  return s.charCodeAt(0);
}

/** TDLib's is_space, which is also true for the terminating NUL the C++ code reads past the end. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === NL || c === 0 || c === 0x0b;
}

function isFirstCodeUnit(c: number): boolean {
  return (c & 0xc0) !== 0x80;
}

/** UTF-16 length contributed by a UTF-8 lead byte (4-byte sequences are surrogate pairs). */
function utf16Of(c: number): number {
  return isFirstCodeUnit(c) ? 1 + (c >= 0xf0 ? 1 : 0) : 0;
}

class Bytes {
  readonly b: Uint8Array;
  constructor(text: string) {
    this.b = new TextEncoder().encode(text);
  }
  get size(): number {
    return this.b.length;
  }
  /** Reads like a C++ std::string: index == size is NUL. */
  at(i: number): number {
    return i < this.b.length ? this.b[i]! : 0;
  }
  slice(from: number, to: number): string {
    return new TextDecoder().decode(this.b.subarray(from, to));
  }
}

class Out {
  private readonly bytes: number[] = [];
  utf16 = 0;
  push(c: number): void {
    this.bytes.push(c);
    this.utf16 += utf16Of(c);
  }
  pushCodePoint(code: number): void {
    for (const c of new TextEncoder().encode(String.fromCodePoint(code))) this.bytes.push(c);
    this.utf16 += code > 0xffff ? 2 : 1;
  }
  get size(): number {
    return this.bytes.length;
  }
  text(from = 0, to = this.bytes.length): string {
    return new TextDecoder().decode(Uint8Array.from(this.bytes.slice(from, to)));
  }
}

/** LinkManager::get_checked_link, loosely: '' means "not a link" and the entity is dropped. */
function checkedLink(url: string): string {
  const u = url.trim();
  if (u === '' || /\s/.test(u)) return '';
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(u)?.[1]?.toLowerCase();
  if (scheme === undefined) return /^[^/?#]+\.[a-z]{2,}([/?#].*)?$/i.test(u) ? `http://${u}` : '';
  if (scheme === 'http' || scheme === 'https') {
    try {
      new URL(u);
      return u;
    } catch {
      return '';
    }
  }
  return scheme === 'tg' || scheme === 'ton' ? u : '';
}

function sortDrafts(drafts: Draft[]): Draft[] {
  return drafts.sort((a, b) => a.offset - b.offset || b.length - a.length);
}

function toApi(drafts: Draft[]): MessageEntity[] {
  return sortDrafts(drafts).map((d) => {
    const base = { type: API_TYPE[d.kind], offset: d.offset, length: d.length };
    if (d.kind === 'TextUrl') return { ...base, url: d.argument };
    if (d.kind === 'PreCode') return { ...base, language: d.argument };
    if (d.kind === 'CustomEmoji') return { ...base, custom_emoji_id: d.argument };
    return base;
  });
}

function reserved(c: number): never {
  throw new EntityParseError(
    `Character '${String.fromCharCode(c)}' is reserved and must be escaped with the preceding '\\'`,
  );
}

function parseMarkdownV2(source: string): FormattedText {
  const t = new Bytes(source);
  const out = new Out();
  const drafts: Draft[] = [];
  interface Open {
    kind: Kind;
    argument: string;
    offset: number;
    byteOffset: number;
    beginPos: number;
  }
  const nested: Open[] = [];
  let haveBlockquote = false;
  const RESERVED = new Set([...'_*[]()~`>#+-=|{}.!\n'].map(ch));
  const CODE_RESERVED = new Set([ch('`')]);

  for (let i = 0; i < t.size; i++) {
    const c = t.at(i);
    const next = t.at(i + 1);
    if (c === BS && next > 0 && next <= 126) {
      i++;
      out.push(t.at(i));
      continue;
    }
    const top = nested[nested.length - 1];
    const reservedHere =
      top !== undefined && (top.kind === 'Code' || top.kind === 'Pre' || top.kind === 'PreCode')
        ? CODE_RESERVED
        : RESERVED;
    if (!reservedHere.has(c)) {
      out.push(c);
      continue;
    }

    let isEnd = false;
    if (top !== undefined) {
      if (haveBlockquote && c === NL && (i + 1 === t.size || next !== ch('>'))) isEnd = true;
      else {
        switch (top.kind) {
          case 'Bold':
            isEnd = c === ch('*');
            break;
          case 'Italic':
            isEnd = c === ch('_') && next !== ch('_');
            break;
          case 'Code':
            isEnd = c === ch('`');
            break;
          case 'Pre':
          case 'PreCode':
            isEnd = c === ch('`') && next === ch('`') && t.at(i + 2) === ch('`');
            break;
          case 'TextUrl':
          case 'CustomEmoji':
            isEnd = c === ch(']');
            break;
          case 'Underline':
            isEnd = c === ch('_') && next === ch('_');
            break;
          case 'Strikethrough':
            isEnd = c === ch('~');
            break;
          case 'Spoiler':
            isEnd = c === ch('|') && next === ch('|');
            break;
          case 'BlockQuote':
            isEnd = false;
            break;
        }
      }
    }

    if (!isEnd) {
      let kind: Kind | null;
      let argument = '';
      const byteOffset = i;
      switch (String.fromCharCode(c)) {
        case '_':
          if (next === ch('_')) {
            kind = 'Underline';
            i++;
          } else kind = 'Italic';
          break;
        case '*':
          kind = 'Bold';
          break;
        case '~':
          kind = 'Strikethrough';
          break;
        case '|':
          if (next !== ch('|')) reserved(c);
          i++;
          kind = 'Spoiler';
          break;
        case '[':
          kind = 'TextUrl';
          break;
        case '`':
          if (next === ch('`') && t.at(i + 2) === ch('`')) {
            i += 3;
            kind = 'Pre';
            let languageEnd = i;
            while (!isSpace(t.at(languageEnd)) && t.at(languageEnd) !== ch('`')) languageEnd++;
            if (i !== languageEnd && languageEnd < t.size && t.at(languageEnd) !== ch('`')) {
              kind = 'PreCode';
              argument = t.slice(i, languageEnd);
              i = languageEnd;
            }
            const a = t.at(i);
            const b = t.at(i + 1);
            if (a === NL || a === 0x0d) i += (b === NL || b === 0x0d) && a !== b ? 2 : 1;
            i--;
          } else kind = 'Code';
          break;
        case '!':
          if (next !== ch('[')) reserved(c);
          i++;
          kind = 'CustomEmoji';
          break;
        case '\n':
          out.push(NL);
          kind = null;
          if (i + 1 < t.size && next === ch('>')) {
            i++;
            if (!haveBlockquote) {
              kind = 'BlockQuote';
              haveBlockquote = true;
            }
          }
          break;
        case '>':
          if (i !== 0) reserved(c);
          kind = 'BlockQuote';
          haveBlockquote = true;
          break;
        default:
          reserved(c);
      }
      if (kind === null) continue;
      nested.push({ kind, argument, offset: out.utf16, byteOffset, beginPos: out.size });
      continue;
    }

    const open = nested[nested.length - 1]!;
    if (c === NL && open.kind !== 'BlockQuote') {
      throw new EntityParseError(`Can't find end of ${open.kind} entity at byte offset ${open.byteOffset}`);
    }
    let argument = open.argument;
    let skip = out.utf16 === open.offset;
    switch (open.kind) {
      case 'Underline':
      case 'Spoiler':
        i++;
        break;
      case 'Pre':
      case 'PreCode':
        i += 2;
        break;
      case 'TextUrl': {
        let url = '';
        if (t.at(i + 1) !== ch('(')) {
          url = out.text(open.beginPos);
        } else {
          i += 2;
          const urlBegin = i;
          const urlBytes: number[] = [];
          while (i < t.size && t.at(i) !== ch(')')) {
            if (t.at(i) === BS && t.at(i + 1) > 0 && t.at(i + 1) <= 126) {
              urlBytes.push(t.at(i + 1));
              i += 2;
              continue;
            }
            urlBytes.push(t.at(i++));
          }
          if (t.at(i) !== ch(')')) {
            throw new EntityParseError(`Can't find end of a URL at byte offset ${urlBegin}`);
          }
          url = new TextDecoder().decode(Uint8Array.from(urlBytes));
        }
        const checked = checkedLink(url);
        if (checked === '') skip = true;
        else argument = checked;
        break;
      }
      case 'CustomEmoji': {
        if (t.at(i + 1) !== ch('(')) {
          throw new EntityParseError('Custom emoji entity must contain a tg://emoji URL');
        }
        i += 2;
        const urlBegin = i;
        let url = '';
        while (i < t.size && t.at(i) !== ch(')')) url += String.fromCharCode(t.at(i++));
        if (t.at(i) !== ch(')')) {
          throw new EntityParseError(`Can't find end of a custom emoji URL at byte offset ${urlBegin}`);
        }
        const id = /^tg:\/\/emoji\?id=(\d+)$/.exec(url)?.[1];
        if (id === undefined) throw new EntityParseError('Invalid custom emoji URL specified');
        argument = id;
        break;
      }
      case 'BlockQuote':
        haveBlockquote = false;
        out.push(c);
        break;
      default:
        break;
    }
    if (!skip)
      drafts.push({ kind: open.kind, offset: open.offset, length: out.utf16 - open.offset, argument });
    nested.pop();
  }
  if (haveBlockquote) {
    const open = nested[nested.length - 1];
    if (open !== undefined && open.kind === 'BlockQuote') {
      haveBlockquote = false;
      const length = out.utf16 - open.offset;
      if (length !== 0) drafts.push({ kind: 'BlockQuote', offset: open.offset, length, argument: '' });
      nested.pop();
    }
  }
  const unclosed = nested[nested.length - 1];
  if (unclosed !== undefined) {
    throw new EntityParseError(
      `Can't find end of ${unclosed.kind} entity at byte offset ${unclosed.byteOffset}`,
    );
  }
  return { text: out.text(), entities: toApi(drafts) };
}

function parseMarkdown(source: string): FormattedText {
  const t = new Bytes(source);
  const out = new Out();
  const drafts: Draft[] = [];
  const starts = new Set([...'_*`['].map(ch));
  for (let i = 0; i < t.size; i++) {
    const c = t.at(i);
    if (c === BS && starts.has(t.at(i + 1))) {
      i++;
      out.push(t.at(i));
      continue;
    }
    if (!starts.has(c)) {
      out.push(c);
      continue;
    }
    const beginPos = i;
    const endChar = c === ch('[') ? ch(']') : c;
    let isPre = false;
    i++;
    let language = '';
    if (c === ch('`') && t.at(i) === ch('`') && t.at(i + 1) === ch('`')) {
      i += 2;
      isPre = true;
      let languageEnd = i;
      while (!isSpace(t.at(languageEnd)) && t.at(languageEnd) !== ch('`')) languageEnd++;
      if (i !== languageEnd && languageEnd < t.size && t.at(languageEnd) !== ch('`')) {
        language = t.slice(i, languageEnd);
        i = languageEnd;
      }
      const a = t.at(i);
      const b = t.at(i + 1);
      if (a === NL || a === 0x0d) i += (b === NL || b === 0x0d) && a !== b ? 2 : 1;
    }
    const offset = out.utf16;
    const entityBegin = out.size;
    while (
      i < t.size &&
      (t.at(i) !== endChar || (isPre && !(t.at(i + 1) === ch('`') && t.at(i + 2) === ch('`'))))
    ) {
      out.push(t.at(i++));
    }
    if (i === t.size) {
      throw new EntityParseError(`Can't find end of the entity starting at byte offset ${beginPos}`);
    }
    if (offset !== out.utf16) {
      const length = out.utf16 - offset;
      if (c === ch('_')) drafts.push({ kind: 'Italic', offset, length, argument: '' });
      else if (c === ch('*')) drafts.push({ kind: 'Bold', offset, length, argument: '' });
      else if (c === ch('[')) {
        let url = '';
        if (t.at(i + 1) !== ch('(')) url = out.text(entityBegin);
        else {
          i += 2;
          const from = i;
          while (i < t.size && t.at(i) !== ch(')')) i++;
          url = t.slice(from, i);
        }
        const checked = checkedLink(url);
        if (checked !== '') drafts.push({ kind: 'TextUrl', offset, length, argument: checked });
      } else if (isPre) {
        drafts.push({ kind: language === '' ? 'Pre' : 'PreCode', offset, length, argument: language });
      } else drafts.push({ kind: 'Code', offset, length, argument: '' });
    }
    if (isPre) i += 2;
  }
  return { text: out.text(), entities: toApi(drafts) };
}

/** decode_html_entity: the code point and the position after it, or null when '&' is literal. */
function decodeHtmlEntity(t: Bytes, pos: number): { code: number; next: number } | null {
  let end = pos + 1;
  let code = 0;
  if (t.at(pos + 1) === ch('#')) {
    end++;
    if (t.at(pos + 2) === ch('x')) {
      end++;
      while (/[0-9a-fA-F]/.test(String.fromCharCode(t.at(end)))) {
        code = code * 16 + Number.parseInt(String.fromCharCode(t.at(end++)), 16);
      }
    } else {
      while (t.at(end) >= 0x30 && t.at(end) <= 0x39) code = code * 10 + (t.at(end++) - 0x30);
    }
    if (code === 0 || code >= 0x10ffff || end - pos >= 10) return null;
  } else {
    while (/[a-zA-Z]/.test(String.fromCharCode(t.at(end)))) end++;
    const name = t.slice(pos + 1, end);
    const named: Record<string, number> = { lt: ch('<'), gt: ch('>'), amp: ch('&'), quot: ch('"') };
    const value = named[name];
    if (value === undefined) return null;
    code = value;
  }
  return { code, next: t.at(end) === ch(';') ? end + 1 : end };
}

const HTML_TAGS = new Set([
  'a',
  'b',
  'strong',
  'i',
  'em',
  's',
  'strike',
  'del',
  'u',
  'ins',
  'tg-spoiler',
  'tg-emoji',
  'span',
  'pre',
  'code',
  'blockquote',
]);

function parseHtml(source: string): FormattedText {
  const t = new Bytes(source);
  const out = new Out();
  const drafts: Draft[] = [];
  interface Open {
    tag: string;
    argument: string;
    offset: number;
    beginPos: number;
  }
  const nested: Open[] = [];
  const isAlnum = (c: number) => /[0-9a-zA-Z]/.test(String.fromCharCode(c));

  for (let i = 0; i < t.size; i++) {
    const c = t.at(i);
    if (c === ch('&')) {
      const decoded = decodeHtmlEntity(t, i);
      if (decoded !== null) {
        out.pushCodePoint(decoded.code);
        i = decoded.next - 1;
        continue;
      }
    }
    if (c !== ch('<')) {
      out.push(c);
      continue;
    }
    const beginPos = i++;
    if (t.at(i) !== ch('/')) {
      while (!isSpace(t.at(i)) && t.at(i) !== ch('>')) i++;
      if (t.at(i) === 0) throw new EntityParseError(`Unclosed start tag at byte offset ${beginPos}`);
      const tag = t.slice(beginPos + 1, i).toLowerCase();
      if (!HTML_TAGS.has(tag)) {
        throw new EntityParseError(`Unsupported start tag "${tag}" at byte offset ${beginPos}`);
      }
      let argument = '';
      while (t.at(i) !== ch('>')) {
        while (t.at(i) !== 0 && isSpace(t.at(i))) i++;
        if (t.at(i) === ch('>')) break;
        const nameBegin = i;
        while (!isSpace(t.at(i)) && t.at(i) !== ch('=')) i++;
        const attribute = t.slice(nameBegin, i);
        if (attribute === '') {
          throw new EntityParseError(`Empty attribute name in the tag "${tag}" at byte offset ${beginPos}`);
        }
        while (t.at(i) !== 0 && isSpace(t.at(i))) i++;
        if (t.at(i) !== ch('=')) {
          throw new EntityParseError(
            `Expected equal sign in declaration of an attribute of the tag "${tag}" at byte offset ${beginPos}`,
          );
        }
        i++;
        while (t.at(i) !== 0 && isSpace(t.at(i))) i++;
        if (t.at(i) === 0)
          throw new EntityParseError(`Unclosed start tag "${tag}" at byte offset ${beginPos}`);
        let value: string;
        if (t.at(i) !== ch("'") && t.at(i) !== ch('"')) {
          const tokenBegin = i;
          while (isAlnum(t.at(i)) || t.at(i) === ch('.') || t.at(i) === ch('-')) i++;
          value = t.slice(tokenBegin, i).toLowerCase();
          if (!isSpace(t.at(i)) && t.at(i) !== ch('>')) {
            throw new EntityParseError(`Unexpected end of name token at byte offset ${tokenBegin}`);
          }
        } else {
          const endChar = t.at(i++);
          const valueOut = new Out();
          while (t.at(i) !== endChar && t.at(i) !== 0) {
            if (t.at(i) === ch('&')) {
              const decoded = decodeHtmlEntity(t, i);
              if (decoded !== null) {
                valueOut.pushCodePoint(decoded.code);
                i = decoded.next;
                continue;
              }
            }
            valueOut.push(t.at(i++));
          }
          if (t.at(i) === endChar) i++;
          value = valueOut.text();
        }
        if (t.at(i) === 0) throw new EntityParseError(`Unclosed start tag at byte offset ${beginPos}`);
        if (tag === 'a' && attribute === 'href') argument = value;
        else if (tag === 'code' && attribute === 'class' && value.startsWith('language-'))
          argument = value.slice(9);
        else if (tag === 'span' && attribute === 'class' && value.startsWith('tg-'))
          argument = value.slice(3);
        else if (tag === 'tg-emoji' && attribute === 'emoji-id') argument = value;
      }
      if (tag === 'span' && argument !== 'spoiler') {
        throw new EntityParseError(`Tag "span" must have class "tg-spoiler" at byte offset ${beginPos}`);
      }
      nested.push({ tag, argument, offset: out.utf16, beginPos: out.size });
      continue;
    }

    if (nested.length === 0) throw new EntityParseError(`Unexpected end tag at byte offset ${beginPos}`);
    while (!isSpace(t.at(i)) && t.at(i) !== ch('>')) i++;
    const endTag = t.slice(beginPos + 2, i).toLowerCase();
    while (isSpace(t.at(i)) && t.at(i) !== 0) i++;
    if (t.at(i) !== ch('>')) throw new EntityParseError(`Unclosed end tag at byte offset ${beginPos}`);
    const open = nested[nested.length - 1]!;
    if (endTag !== '' && endTag !== open.tag) {
      throw new EntityParseError(
        `Unmatched end tag at byte offset ${beginPos}, expected "</${open.tag}>", found "</${endTag}>"`,
      );
    }
    if (out.utf16 > open.offset) {
      const offset = open.offset;
      const length = out.utf16 - offset;
      const last = drafts[drafts.length - 1];
      const sameSpan = last !== undefined && last.offset === offset && last.length === length;
      switch (open.tag) {
        case 'i':
        case 'em':
          drafts.push({ kind: 'Italic', offset, length, argument: '' });
          break;
        case 'b':
        case 'strong':
          drafts.push({ kind: 'Bold', offset, length, argument: '' });
          break;
        case 's':
        case 'strike':
        case 'del':
          drafts.push({ kind: 'Strikethrough', offset, length, argument: '' });
          break;
        case 'u':
        case 'ins':
          drafts.push({ kind: 'Underline', offset, length, argument: '' });
          break;
        case 'tg-spoiler':
        case 'span':
          drafts.push({ kind: 'Spoiler', offset, length, argument: '' });
          break;
        case 'tg-emoji':
          if (!/^[1-9]\d*$/.test(open.argument)) {
            throw new EntityParseError('Invalid custom emoji identifier specified');
          }
          drafts.push({ kind: 'CustomEmoji', offset, length, argument: open.argument });
          break;
        case 'a': {
          const url = checkedLink(open.argument === '' ? out.text(open.beginPos) : open.argument);
          if (url !== '') drafts.push({ kind: 'TextUrl', offset, length, argument: url });
          break;
        }
        case 'pre':
          if (sameSpan && last.kind === 'Code' && last.argument !== '') last.kind = 'PreCode';
          else drafts.push({ kind: 'Pre', offset, length, argument: '' });
          break;
        case 'code':
          if (sameSpan && last.kind === 'Pre' && open.argument !== '') {
            last.kind = 'PreCode';
            last.argument = open.argument;
          } else drafts.push({ kind: 'Code', offset, length, argument: open.argument });
          break;
        case 'blockquote':
          drafts.push({ kind: 'BlockQuote', offset, length, argument: '' });
          break;
      }
    }
    nested.pop();
  }
  const unclosed = nested[nested.length - 1];
  if (unclosed !== undefined) {
    throw new EntityParseError(`Can't find end tag corresponding to start tag ${unclosed.tag}`);
  }
  for (const d of drafts) if (d.kind === 'Code') d.argument = '';
  return { text: out.text(), entities: toApi(drafts) };
}

/**
 * Parses `text` for a parse_mode the Bot API accepts (case-insensitive; '' means none). Returns null for an
 * unsupported parse_mode so the caller can answer with Telegram's own error for it.
 */
export function parseFormatted(text: string, parseMode: string): FormattedText | null {
  switch (parseMode.toLowerCase()) {
    case '':
      return { text, entities: [] };
    case 'markdown':
      return parseMarkdown(text);
    case 'markdownv2':
      return parseMarkdownV2(text);
    case 'html':
      return parseHtml(text);
    default:
      return null;
  }
}

/** Telegram drops leading and trailing whitespace of a message text and clips the entities to what is left. */
export function trimFormatted(f: FormattedText): FormattedText {
  const lead = /^\s*/.exec(f.text)![0].length;
  const body = f.text.slice(lead).replace(/\s+$/, '');
  const entities: MessageEntity[] = [];
  for (const e of f.entities) {
    const start = Math.max(0, e.offset - lead);
    const end = Math.min(body.length, e.offset + e.length - lead);
    if (end > start) entities.push({ ...e, offset: start, length: end - start });
  }
  return { text: body, entities };
}

/** Length as Telegram counts it for the 4096/1024 limits (TDLib utf8_length: code points). */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
