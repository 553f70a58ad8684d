import type { MarketInstrument } from '../exchange/exchange.js';

/** Bybit spot filters at the time of writing, for the symbols the simulated market trades. */
const CATALOGUE: readonly (MarketInstrument & { readonly startPrice: string })[] = [
  {
    symbol: 'BTCUSDT',
    baseAsset: 'BTC',
    quoteAsset: 'USDT',
    tickSize: '0.01',
    qtyStep: '0.000001',
    minQty: '0.000048',
    minValue: '1',
    startPrice: '97250',
  },
  {
    symbol: 'ETHUSDT',
    baseAsset: 'ETH',
    quoteAsset: 'USDT',
    tickSize: '0.01',
    qtyStep: '0.00001',
    minQty: '0.00062',
    minValue: '1',
    startPrice: '3650',
  },
  {
    symbol: 'SOLUSDT',
    baseAsset: 'SOL',
    quoteAsset: 'USDT',
    tickSize: '0.01',
    qtyStep: '0.001',
    minQty: '0.017',
    minValue: '1',
    startPrice: '185',
  },
];

export interface SimulatedInstrument extends MarketInstrument {
  readonly startPrice: string;
}

/**
 * The instrument of a symbol the simulated market can trade: one of the catalogue, or a synthetic `SIMnnnUSDT`
 * (for load tests with many symbols) priced around 100.
 */
export function simulatedInstrument(symbol: string): SimulatedInstrument | undefined {
  const known = CATALOGUE.find((i) => i.symbol === symbol);
  if (known) return known;
  const synthetic = /^SIM(\d{3})USDT$/.exec(symbol);
  if (!synthetic) return undefined;
  return {
    symbol,
    baseAsset: `SIM${synthetic[1]}`,
    quoteAsset: 'USDT',
    tickSize: '0.01',
    qtyStep: '0.001',
    minQty: '0.001',
    minValue: '1',
    startPrice: '100',
  };
}

export const DEFAULT_SIMULATED_SYMBOLS = CATALOGUE.map((i) => i.symbol);
