import { randomBytes } from 'node:crypto';

/** Width and height of a PNG or JPEG, or null when the bytes are neither (Telegram: IMAGE_PROCESS_FAILED). */
export function imageSize(bytes: Buffer): { width: number; height: number } | null {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (
    bytes.length >= 24 &&
    png.every((b, i) => bytes[i] === b) &&
    bytes.toString('latin1', 12, 16) === 'IHDR'
  ) {
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let i = 2;
    while (i + 9 < bytes.length) {
      if (bytes[i] !== 0xff) return null;
      const marker = bytes[i + 1]!;
      // SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { width: bytes.readUInt16BE(i + 7), height: bytes.readUInt16BE(i + 5) };
      }
      i += 2 + bytes.readUInt16BE(i + 2);
    }
  }
  return null;
}

/**
 * The PhotoSize ladder Telegram answers with: the image scaled (never up) into 90, 320, 800 and 1280 px boxes.
 * Telegram re-encodes to JPEG; the fake keeps the uploaded bytes and reports their size on the largest entry only.
 */
export function photoSizes(
  width: number,
  height: number,
  fileSize: number,
  ids: () => { file_id: string; file_unique_id: string },
): Array<{ file_id: string; file_unique_id: string; width: number; height: number; file_size?: number }> {
  const seen = new Set<string>();
  const sizes: Array<{
    file_id: string;
    file_unique_id: string;
    width: number;
    height: number;
    file_size?: number;
  }> = [];
  for (const box of [90, 320, 800, 1280]) {
    const scale = Math.min(1, box / Math.max(width, height));
    const w = Math.max(1, Math.round(width * scale));
    const h = Math.max(1, Math.round(height * scale));
    const key = `${w}x${h}`;
    if (seen.has(key)) continue;
    seen.add(key);
    sizes.push({ ...ids(), width: w, height: h });
  }
  const last = sizes[sizes.length - 1];
  if (last !== undefined) last.file_size = fileSize;
  return sizes;
}

/** Opaque ids shaped like Telegram's (base64url); they only need to be unique within one fake. */
export function newFileIds(): { file_id: string; file_unique_id: string } {
  return {
    file_id: `AgACAgIAAxk${randomBytes(48).toString('base64url')}`,
    file_unique_id: `AQAD${randomBytes(9).toString('base64url')}`,
  };
}

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  pdf: 'application/pdf',
  csv: 'text/csv',
  txt: 'text/plain',
  json: 'application/json',
  zip: 'application/zip',
};

/** A document's mime_type from its file name (telegraf sends no part Content-Type; Telegram's rule is unverified). */
export function mimeFromName(name: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  return (ext !== undefined ? MIME_BY_EXTENSION[ext] : undefined) ?? 'application/octet-stream';
}
