import { Dec, decText, roundToStep } from '../engine/money.js';
import { seededRandom } from '../engine/random.js';
import type { MarketFeed, PriceTick, TickSink } from './feed.js';
import { type SimulatedInstrument, simulatedInstrument } from './instruments.js';

export interface SimulatedMarketOptions {
  readonly symbols: readonly string[];
  /** Real milliseconds between two updates of every symbol. */
  readonly tickMs: number;
  readonly seed: number;
  /** Standard deviation of one update's return: 0.00066 is BTC's typical 1-minute move. */
  readonly volatility?: number;
  readonly nowMs?: () => number;
}

/**
 * A seeded random walk per symbol with a realistic 1-minute volatility and a gentle pull back to its start price,
 * rounded to the tick. Each update stands for one minute of market time, so the default speed (one update a second)
 * plays a trading day in 24 minutes. A restart continues from the last price the exchange saw.
 */
export class SimulatedMarket implements MarketFeed {
  readonly symbols: readonly string[];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly instruments: SimulatedInstrument[];

  constructor(private readonly options: SimulatedMarketOptions) {
    this.instruments = options.symbols.map((s) => {
      const i = simulatedInstrument(s);
      if (!i) throw new Error(`the simulated market has no instrument ${s}`);
      return i;
    });
    this.symbols = this.instruments.map((i) => i.symbol);
  }

  start(sink: TickSink, lastPrices: ReadonlyMap<string, string>): void {
    const now = this.options.nowMs ?? Date.now;
    const vol = this.options.volatility ?? 0.00066;
    const walkers = this.instruments.map((instrument, index) => {
      const rnd = seededRandom(
        this.options.seed * 1000 + index + (lastPrices.has(instrument.symbol) ? now() : 0),
      );
      const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
      const anchor = Number(instrument.startPrice);
      let price = Number(lastPrices.get(instrument.symbol) ?? instrument.startPrice);
      const tick = new Dec(instrument.tickSize);
      return () => {
        price *= 1 + vol * gauss() + 0.002 * Math.log(anchor / price) * vol;
        const text = decText(roundToStep(new Dec(price.toPrecision(15)), tick));
        price = Number(text);
        return text;
      };
    });
    let counter = 0;
    const emit = async () => {
      const atMs = now();
      counter = (counter + 1) % 1000;
      const seq = atMs * 1000 + counter; // time-based: a restarted feed keeps increasing
      const ticks: PriceTick[] = this.instruments.map((i, k) => ({
        symbol: i.symbol,
        seq,
        price: walkers[k]!(),
        atMs,
      }));
      await sink(ticks);
    };
    const loop = () => {
      this.running = emit().catch(() => undefined);
      this.timer = setTimeout(loop, this.options.tickMs);
    };
    loop();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
