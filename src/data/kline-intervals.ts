/** Bybit's kline intervals: minutes, then day, week (opening Monday 00:00 UTC) and calendar month. */
export const KLINE_INTERVALS = [
  '1',
  '3',
  '5',
  '15',
  '30',
  '60',
  '120',
  '240',
  '360',
  '720',
  'D',
  'W',
  'M',
] as const;
export type KlineInterval = (typeof KLINE_INTERVALS)[number];

export function isKlineInterval(s: string): s is KlineInterval {
  return (KLINE_INTERVALS as readonly string[]).includes(s);
}
