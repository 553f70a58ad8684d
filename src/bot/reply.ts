/**
 * What a command answers, before any transport sees it: plain text lines (never markup: each transport escapes and
 * formats), an optional chart, and buttons. Telegram renders it as HTML text or a photo with a caption, Discord as
 * an embed with an attachment; both from this one value, so a command behaves the same on both.
 */
export type Severity = 'info' | 'success' | 'warning' | 'critical' | 'error';

export interface Button {
  readonly label: string;
  /** What pressing it sends back (Telegram callback_data: at most 64 bytes; Discord custom_id: at most 100). */
  readonly data: string;
  readonly style?: 'primary' | 'danger' | 'secondary';
}

export interface Reply {
  readonly title: string;
  readonly severity: Severity;
  readonly lines: readonly string[];
  readonly image?: { readonly png: Buffer; readonly name: string };
  readonly buttons?: readonly Button[];
  /**
   * A press that was refused (not the asker's button, or a stranger's press): said to the presser alone; the message
   * pressed keeps its text and buttons.
   */
  readonly pressRefused?: boolean;
}

export const reply = (
  title: string,
  lines: readonly string[] = [],
  extra: Partial<Omit<Reply, 'title' | 'lines'>> = {},
): Reply => ({ title, lines, severity: 'info', ...extra });

export const failure = (message: string, example?: string): Reply => ({
  title: message,
  lines: example ? [`Example: ${example}`] : [],
  severity: 'error',
});

/**
 * Splits text into pieces of at most `limit`, at line breaks where it can. A piece's size is the sum of its characters'
 * weights (by default their UTF-16 length; a transport that escapes measures a character as its escaped form), and a
 * line longer than the limit is cut between characters, never inside a surrogate pair.
 */
export function splitText(
  text: string,
  limit: number,
  weight: (char: string) => number = (c) => c.length,
): string[] {
  if (limit < 1) throw new RangeError(`splitText: limit ${limit} leaves no room for text`);
  const size = (s: string) => {
    let n = 0;
    for (const c of s) n += weight(c);
    return n;
  };
  const pieces: string[] = [];
  let current = '';
  let currentSize = 0;
  for (const line of text.split('\n')) {
    const lineSize = size(line);
    const joined = current === '' ? lineSize : currentSize + weight('\n') + lineSize;
    if (joined <= limit) {
      current = current === '' ? line : `${current}\n${line}`;
      currentSize = joined;
      continue;
    }
    if (current !== '') pieces.push(current);
    current = '';
    currentSize = 0;
    for (const c of line) {
      const w = weight(c);
      if (currentSize + w > limit && current !== '') {
        pieces.push(current);
        current = '';
        currentSize = 0;
      }
      current += c;
      currentSize += w;
    }
  }
  if (current !== '' || pieces.length === 0) pieces.push(current);
  return pieces;
}
