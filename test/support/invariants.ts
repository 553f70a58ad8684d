import { Decimal } from 'decimal.js';
import type { DataSource } from 'typeorm';

/**
 * The bookkeeping rules that must hold whenever the app is quiet, whatever happened before (crashes included).
 * Each returns a list of violations; an empty list means the rule holds.
 */
export async function checkInvariants(ds: DataSource, openingQuote: string): Promise<string[]> {
  const problems: string[] = [];
  const q = (sql: string, params: unknown[] = []) =>
    ds.query(sql, params) as Promise<Record<string, string>[]>;

  // Every execution of the paper exchange is in trade exactly once, with the same price, quantity and fee.
  for (const r of await q(`
      SELECT e.exec_id, count(t.id) AS n FROM paper_execution e LEFT JOIN trade t ON t.exec_id = e.exec_id
       GROUP BY e.exec_id HAVING count(t.id) <> 1`)) {
    problems.push(`execution ${r.exec_id} is in trade ${r.n} times`);
  }
  for (const r of await q(`
      SELECT t.exec_id FROM trade t LEFT JOIN paper_execution e ON e.exec_id = t.exec_id
       WHERE e.exec_id IS NULL OR e.price <> t.price OR e.quantity <> t.quantity OR e.fee <> t.fee`)) {
    problems.push(`trade ${r.exec_id} does not match the exchange's execution`);
  }
  // No client order id reached the exchange twice, and no cell ever had two live orders at once.
  for (const r of await q(`
      SELECT split_part(client_order_id, '-', 1) || '-' || split_part(client_order_id, '-', 2) AS cell, count(*) AS n
        FROM paper_order WHERE status = 'open' AND client_order_id ~ '^g[0-9]+-[0-9]+-[0-9]+$'
       GROUP BY 1 HAVING count(*) > 1`)) {
    problems.push(`cell ${r.cell} has ${r.n} open orders on the exchange`);
  }
  for (const r of await q(`
      SELECT o.client_order_id FROM paper_order o LEFT JOIN grid_order g ON g.client_order_id = o.client_order_id
       WHERE g.client_order_id IS NULL`)) {
    problems.push(`exchange order ${r.client_order_id} has no grid_order row`);
  }
  // Each grid's position is the sum of its fills; its quote is the investment moved by its fills and fees.
  for (const g of await q(`
      SELECT g.id, g.base_qty, g.base_cost, g.quote_balance, g.investment, g.realized_pnl, g.fees,
             COALESCE(SUM(CASE WHEN t.side = 'buy' THEN t.quantity ELSE -t.quantity END), 0) AS net_qty,
             COALESCE(SUM(CASE WHEN t.side = 'buy' THEN t.quantity * t.price ELSE 0 END), 0) AS bought,
             COALESCE(SUM(CASE WHEN t.side = 'sell' THEN t.quantity * t.price ELSE 0 END), 0) AS sold,
             COALESCE(SUM(t.fee), 0) AS trade_fees, COALESCE(SUM(t.fee_quote), 0) AS trade_fees_quote,
             COALESCE(SUM(t.realized_pnl), 0) AS trade_pnl
        FROM grid g LEFT JOIN trade t ON t.grid_id = g.id GROUP BY g.id`)) {
    const d = (x: string | undefined) => new Decimal(x ?? '0');
    if (!d(g.base_qty).eq(d(g.net_qty)))
      problems.push(`grid ${g.id}: base ${g.base_qty} but fills net ${g.net_qty}`);
    const quote = d(g.investment).minus(d(g.bought)).plus(d(g.sold)).minus(d(g.trade_fees));
    if (!d(g.quote_balance).eq(quote))
      problems.push(`grid ${g.id}: quote ${g.quote_balance} but fills give ${quote}`);
    if (!d(g.fees).eq(d(g.trade_fees)))
      problems.push(`grid ${g.id}: fees ${g.fees} but trades sum ${g.trade_fees}`);
    if (!d(g.fees).eq(d(g.trade_fees_quote)))
      problems.push(`grid ${g.id}: fees ${g.fees} but trades' fees in quote sum ${g.trade_fees_quote}`);
    if (!d(g.realized_pnl).eq(d(g.trade_pnl))) {
      problems.push(`grid ${g.id}: realized ${g.realized_pnl} but trades sum ${g.trade_pnl}`);
    }
    // Recomputed from the fills: what sells brought in, less what the sold base had cost (all bought less what is held).
    const recomputed = d(g.sold).minus(d(g.bought).minus(d(g.base_cost)));
    if (!d(g.realized_pnl).eq(recomputed)) {
      problems.push(`grid ${g.id}: realized ${g.realized_pnl} but the fills recompute to ${recomputed}`);
    }
  }
  // The exchange's balances are exactly what the grids hold (the bot is the only trader on the paper account).
  for (const b of await q(`
      SELECT b.asset, b.total, COALESCE((SELECT SUM(g.base_qty) FROM grid g WHERE g.symbol = b.asset || 'USDT'), 0) AS held
        FROM paper_balance b WHERE b.asset <> 'USDT'`)) {
    if (!new Decimal(b.total!).eq(b.held!))
      problems.push(`paper ${b.asset} ${b.total} but grids hold ${b.held}`);
  }
  const [usdt] = await q(
    `SELECT (SELECT total FROM paper_balance WHERE asset = 'USDT') AS total,
            (SELECT COALESCE(SUM(investment - quote_balance), 0) FROM grid) AS spent`,
  );
  if (usdt?.total && !new Decimal(usdt.total).eq(new Decimal(openingQuote).minus(usdt.spent!))) {
    problems.push(
      `paper USDT ${usdt.total} but the grids account for ${new Decimal(openingQuote).minus(usdt.spent!)}`,
    );
  }
  return problems;
}
