import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseCandlesCsv } from '../data/candles-csv.js';
import { candlePath } from '../engine/candles.js';
import { priceText } from '../engine/money.js';
import type { MarketFeed, PriceTick, TickSink } from './feed.js';

/**
 * Replays a candle file (the backtester's format) as live prices: each candle becomes the four points of its path
 * (O, then L and H in the backtester's order, then C), one point per update.
 */
export class ReplayMarket implements MarketFeed {
  readonly symbols: readonly string[];
  private timer: NodeJS.Timeout | null = null;
  private readonly points: string[];

  constructor(
    private readonly options: { file: string; symbol: string; tickMs: number; nowMs?: () => number },
  ) {
    let bytes = readFileSync(options.file);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
    const candles = parseCandlesCsv(bytes, options.file);
    this.points = [];
    for (let i = 0; i < candles.length; i++) {
      for (const p of candlePath(candles.open[i]!, candles.high[i]!, candles.low[i]!, candles.close[i]!)) {
        this.points.push(priceText(p));
      }
    }
    this.symbols = [options.symbol];
  }

  start(sink: TickSink): void {
    const now = this.options.nowMs ?? Date.now;
    let index = 0;
    let counter = 0;
    const loop = () => {
      if (index >= this.points.length) return; // the file is over: prices stop, as a closed market's would
      const atMs = now();
      counter = (counter + 1) % 1000;
      const tick: PriceTick = {
        symbol: this.options.symbol,
        seq: atMs * 1000 + counter,
        price: this.points[index++]!,
        atMs,
      };
      void sink([tick]).catch(() => undefined);
      this.timer = setTimeout(loop, this.options.tickMs);
    };
    loop();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
