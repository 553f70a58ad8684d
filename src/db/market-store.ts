import type { DataSource } from 'typeorm';

/** The paper markets' latest prices, where a restarted simulated or replayed feed goes on from. */
export async function lastPaperPrices(ds: DataSource): Promise<Map<string, string>> {
  const rows = (await ds.query(`SELECT symbol, last_price FROM paper_market`)) as {
    symbol: string;
    last_price: string;
  }[];
  return new Map(rows.map((r) => [r.symbol, r.last_price]));
}
