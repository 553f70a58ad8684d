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
  /** A press that was refused (not the asker's button): said to the presser alone, the prompt keeps its buttons. */
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

/** Splits text into pieces of at most `limit` characters, at line breaks where it can. */
export function splitText(text: string, limit: number): string[] {
  const pieces: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    const candidate = current === '' ? line : `${current}\n${line}`;
    if (candidate.length <= limit) {
      current = candidate;
      continue;
    }
    if (current !== '') pieces.push(current);
    let rest = line;
    while (rest.length > limit) {
      pieces.push(rest.slice(0, limit));
      rest = rest.slice(limit);
    }
    current = rest;
  }
  if (current !== '' || pieces.length === 0) pieces.push(current);
  return pieces;
}
