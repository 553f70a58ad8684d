import { createHmac } from 'node:crypto';

/** Lowercase hex HMAC-SHA256 of `payload` with `secret`, as Bybit v5 signs (protocols.md 1.2). */
export function bybitSign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

/** The string a private REST call signs: timestamp + apiKey + recvWindow + (raw query string | raw JSON body). */
export function bybitSignString(
  timestamp: string,
  apiKey: string,
  recvWindow: string,
  payload: string,
): string {
  return `${timestamp}${apiKey}${recvWindow}${payload}`;
}
