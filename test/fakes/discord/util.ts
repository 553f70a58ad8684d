import { randomBytes } from 'node:crypto';

const DISCORD_EPOCH = 1420070400000n;
let increment = 0n;

/** Snowflakes as Discord makes them (ms since 2015 << 22), so ids sort by creation time as clients assume. */
export function snowflake(now = Date.now()): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(now) - DISCORD_EPOCH) << 22n) | (1n << 17n) | (1n << 12n) | increment).toString();
}

/** Discord's timestamp format: microseconds and +00:00 rather than JS's Z. */
export function discordTimestamp(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

export function makeBotToken(applicationId: string): string {
  const id = Buffer.from(applicationId).toString('base64').replace(/=+$/, '');
  return `${id}.${randomBytes(4).toString('base64url')}.${randomBytes(27).toString('base64url')}`;
}

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Discord counts lengths in characters; code points are the closest reading of that. */
export function charLength(s: string): number {
  return Array.from(s).length;
}

/** Width and height from a PNG's IHDR chunk, as Discord reports them for image attachments. */
export function pngSize(data: Buffer): { width: number; height: number } | null {
  const signature = '89504e470d0a1a0a';
  if (data.length < 24 || data.subarray(0, 8).toString('hex') !== signature) return null;
  if (data.subarray(12, 16).toString('latin1') !== 'IHDR') return null;
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

export interface MultipartPart {
  readonly name: string;
  readonly filename: string | null;
  readonly contentType: string | null;
  readonly data: Buffer;
}

function unescapeFormName(s: string): string {
  return s.replace(/%22/g, '"').replace(/%0A/gi, '\n').replace(/%0D/gi, '\r');
}

/** Minimal multipart/form-data reader (RFC 7578), enough for undici's FormData that @discordjs/rest sends. */
export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundaryText = match?.[1] ?? match?.[2];
  if (!boundaryText) throw new Error('multipart body without a boundary');
  const boundary = Buffer.from(`--${boundaryText}`);
  const delimiter = Buffer.from(`\r\n--${boundaryText}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(boundary);
  if (pos < 0) throw new Error('multipart boundary not found');
  pos += boundary.length;
  for (;;) {
    if (body.subarray(pos, pos + 2).toString('latin1') === '--') return parts;
    if (body[pos] === 13 && body[pos + 1] === 10) pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos, 'latin1');
    if (headerEnd < 0) throw new Error('multipart part without headers');
    const headers = body.subarray(pos, headerEnd).toString('utf8').split('\r\n');
    const next = body.indexOf(delimiter, headerEnd + 4);
    if (next < 0) throw new Error('multipart part not terminated');
    let name: string | null = null;
    let filename: string | null = null;
    let type: string | null = null;
    for (const line of headers) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const key = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (key === 'content-disposition') {
        const n = /(?:^|;)\s*name="([^"]*)"/i.exec(value);
        const f = /(?:^|;)\s*filename="([^"]*)"/i.exec(value);
        if (n?.[1] !== undefined) name = unescapeFormName(n[1]);
        if (f?.[1] !== undefined) filename = unescapeFormName(f[1]);
      } else if (key === 'content-type') {
        type = value;
      }
    }
    if (name === null) throw new Error('multipart part without a name');
    parts.push({ name, filename, contentType: type, data: Buffer.from(body.subarray(headerEnd + 4, next)) });
    pos = next + delimiter.length;
  }
}

/** A promise settled from outside; a rejection nobody awaits is not reported as unhandled. */
export class Deferred<T> {
  readonly promise: Promise<T>;
  settled = false;
  private resolveFn!: (value: T) => void;
  private rejectFn!: (error: Error) => void;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    this.promise.catch(() => undefined);
  }

  resolve(value: T): void {
    if (this.settled) return;
    this.settled = true;
    this.resolveFn(value);
  }

  reject(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectFn(error);
  }
}

/** Races a promise against a timer that does not keep the process alive. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fake Discord: ${what} within ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
