import { createHmac } from 'node:crypto';

/**
 * Bybit v5 signing. A private REST call signs `timestamp + apiKey + recvWindow + payload`, where the payload is the
 * query string exactly as sent (GET, no leading '?') or the JSON body exactly as sent (POST); the signature is the
 * lowercase hex HMAC-SHA256 with the API secret. The private WebSocket signs `GET/realtime` + expires.
 */
export function signRequest(
  secret: string,
  timestampMs: number,
  apiKey: string,
  recvWindowMs: number,
  payload: string,
): string {
  return createHmac('sha256', secret)
    .update(`${timestampMs}${apiKey}${recvWindowMs}${payload}`)
    .digest('hex');
}

export function signWebSocketAuth(secret: string, expiresMs: number): string {
  return createHmac('sha256', secret).update(`GET/realtime${expiresMs}`).digest('hex');
}

/** The query string as Bybit's own SDK sends it: insertion order, each value URI-encoded, undefined values left out. */
export function queryString(params: Record<string, string | number | undefined>): string {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');
}
