import { Decimal } from 'decimal.js';
import type { DataSource } from 'typeorm';

type Query = (sql: string) => Promise<Record<string, string>[]>;

/** One bookkeeping rule: its name, and the violations it finds (none: it holds). */
export interface Invariant {
  readonly name: string;
  check(q: Query, openingQuote: string): Promise<string[]>;
}

/**
 * The bookkeeping rules that must hold whenever the app is quiet, whatever happened before (crashes included).
 * Named one by one, so a report (bench/soak.ts) can say which held.
 */
export const INVARIANTS: readonly Invariant[] = [
  {
    name: 'every execution of the paper exchange is in trade exactly once',
    async check(q) {
      return (
        await q(`
      SELECT e.exec_id, count(t.id) AS n FROM paper_execution e LEFT JOIN trade t ON t.exec_id = e.exec_id
       GROUP BY e.exec_id HAVING count(t.id) <> 1`)
      ).map((r) => `execution ${r.exec_id} is in trade ${r.n} times`);
    },
  },
  {
    name: "every trade has the exchange's price, quantity, fee and fee coin",
    async check(q) {
      return (
        await q(`
      SELECT t.exec_id FROM trade t LEFT JOIN paper_execution e ON e.exec_id = t.exec_id
       WHERE e.exec_id IS NULL OR e.price <> t.price OR e.quantity <> t.quantity OR e.fee <> t.fee
          OR e.fee_currency <> t.fee_currency`)
      ).map((r) => `trade ${r.exec_id} does not match the exchange's execution`);
    },
  },
  // Bybit spot takes a buy's fee in the base coin and a sell's in quote; the paper exchange does the same.
  {
    name: 'a buy pays its fee in the base coin, a sell in quote',
    async check(q) {
      return (
        await q(`
      SELECT exec_id, side, fee_currency FROM trade
       WHERE fee_currency <> CASE side WHEN 'buy' THEN left(symbol, length(symbol) - 4) ELSE 'USDT' END`)
      ).map((r) => `trade ${r.exec_id}: a ${r.side} paid its fee in ${r.fee_currency}`);
    },
  },
  {
    name: "every trade's fee in quote is its fee, or its base fee at its price",
    async check(q) {
      return (
        await q(`
      SELECT exec_id, fee_quote FROM trade
       WHERE fee_quote <> CASE fee_currency WHEN 'USDT' THEN fee ELSE fee * price END`)
      ).map((r) => `trade ${r.exec_id}: fee in quote ${r.fee_quote} is not its fee valued at its price`);
    },
  },
  // No client order id reached the exchange twice, and no cell ever had two live orders at once.
  {
    name: 'no cell has two open orders on the exchange',
    async check(q) {
      return (
        await q(`
      SELECT split_part(client_order_id, '-', 1) || '-' || split_part(client_order_id, '-', 2) AS cell, count(*) AS n
        FROM paper_order WHERE status = 'open' AND client_order_id ~ '^g[0-9]+-[0-9]+-[0-9]+$'
       GROUP BY 1 HAVING count(*) > 1`)
      ).map((r) => `cell ${r.cell} has ${r.n} open orders on the exchange`);
    },
  },
  {
    name: 'every exchange order has its grid_order row',
    async check(q) {
      return (
        await q(`
      SELECT o.client_order_id FROM paper_order o LEFT JOIN grid_order g ON g.client_order_id = o.client_order_id
       WHERE g.client_order_id IS NULL`)
      ).map((r) => `exchange order ${r.client_order_id} has no grid_order row`);
    },
  },
  // Each grid's position is the sum of its fills less the fees taken in the base coin (what it holds below a quantity
  // step is dust, still in base_qty); its quote is the investment moved by its fills and the fees taken in quote.
  {
    name: "each grid's position, quote, fees and realized P/L follow from its fills",
    async check(q) {
      const problems: string[] = [];
      for (const g of await q(`
      SELECT g.id, g.base_qty, g.base_cost, g.quote_balance, g.investment, g.realized_pnl, g.fees,
             COALESCE(SUM(CASE WHEN t.side = 'buy' THEN t.quantity ELSE -t.quantity END), 0) AS net_qty,
             COALESCE(SUM(CASE WHEN t.side = 'buy' THEN t.quantity * t.price ELSE 0 END), 0) AS bought,
             COALESCE(SUM(CASE WHEN t.side = 'sell' THEN t.quantity * t.price ELSE 0 END), 0) AS sold,
             COALESCE(SUM(t.fee) FILTER (WHERE t.fee_currency = 'USDT'), 0) AS quote_fees,
             COALESCE(SUM(t.fee) FILTER (WHERE t.fee_currency <> 'USDT'), 0) AS base_fees,
             COALESCE(SUM(t.fee_quote) FILTER (WHERE t.fee_currency <> 'USDT'), 0) AS base_fees_quote,
             COALESCE(SUM(t.fee_quote), 0) AS trade_fees_quote,
             COALESCE(SUM(t.realized_pnl), 0) AS trade_pnl
        FROM grid g LEFT JOIN trade t ON t.grid_id = g.id GROUP BY g.id`)) {
        const d = (x: string | undefined) => new Decimal(x ?? '0');
        const held = d(g.net_qty).minus(d(g.base_fees));
        if (!d(g.base_qty).eq(held))
          problems.push(
            `grid ${g.id}: base ${g.base_qty} but fills net ${g.net_qty} less base fees ${g.base_fees}`,
          );
        const quote = d(g.investment).minus(d(g.bought)).plus(d(g.sold)).minus(d(g.quote_fees));
        if (!d(g.quote_balance).eq(quote))
          problems.push(`grid ${g.id}: quote ${g.quote_balance} but fills give ${quote}`);
        if (!d(g.fees).eq(d(g.trade_fees_quote)))
          problems.push(`grid ${g.id}: fees ${g.fees} but trades' fees in quote sum ${g.trade_fees_quote}`);
        if (!d(g.realized_pnl).eq(d(g.trade_pnl))) {
          problems.push(`grid ${g.id}: realized ${g.realized_pnl} but trades sum ${g.trade_pnl}`);
        }
        // Recomputed from the fills: what sells brought in, less what the sold base had cost: all bought, less the part
        // the exchange kept as fee (valued at its price, and counted in fees), less what is held (dust included).
        const recomputed = d(g.sold).minus(d(g.bought).minus(d(g.base_fees_quote)).minus(d(g.base_cost)));
        if (!d(g.realized_pnl).eq(recomputed)) {
          problems.push(`grid ${g.id}: realized ${g.realized_pnl} but the fills recompute to ${recomputed}`);
        }
      }
      return problems;
    },
  },
  // The exchange's balances are exactly what the grids hold (the bot is the only trader on the paper account).
  {
    name: "the exchange's base balances are what the grids hold",
    async check(q) {
      const problems: string[] = [];
      for (const b of await q(`
      SELECT b.asset, b.total, COALESCE((SELECT SUM(g.base_qty) FROM grid g WHERE g.symbol = b.asset || 'USDT'), 0) AS held
        FROM paper_balance b WHERE b.asset <> 'USDT'`)) {
        if (!new Decimal(b.total!).eq(b.held!))
          problems.push(`paper ${b.asset} ${b.total} but grids hold ${b.held}`);
      }
      return problems;
    },
  },
  {
    name: "the exchange's USDT is the opening balance less what the grids spent",
    async check(q, openingQuote) {
      const [usdt] = await q(
        `SELECT (SELECT total FROM paper_balance WHERE asset = 'USDT') AS total,
            (SELECT COALESCE(SUM(investment - quote_balance), 0) FROM grid) AS spent`,
      );
      if (usdt?.total && !new Decimal(usdt.total).eq(new Decimal(openingQuote).minus(usdt.spent!))) {
        return [
          `paper USDT ${usdt.total} but the grids account for ${new Decimal(openingQuote).minus(usdt.spent!)}`,
        ];
      }
      return [];
    },
  },
];

/** Each invariant with its violations, in order. */
export async function checkEachInvariant(
  ds: DataSource,
  openingQuote: string,
): Promise<{ name: string; problems: string[] }[]> {
  const q: Query = (sql) => ds.query(sql);
  const out: { name: string; problems: string[] }[] = [];
  for (const { name, check } of INVARIANTS) out.push({ name, problems: await check(q, openingQuote) });
  return out;
}

/** Every invariant's violations; an empty list means they all hold. */
export async function checkInvariants(ds: DataSource, openingQuote: string): Promise<string[]> {
  return (await checkEachInvariant(ds, openingQuote)).flatMap((i) => i.problems);
}
