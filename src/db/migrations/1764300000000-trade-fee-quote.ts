import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each trade's fee valued in quote, as the grid's ledger counts it: Bybit takes spot buy fees in the base coin, so
 * `fee` alone cannot be subtracted from P/L. Older rows are valued at their own price when the fee was not in quote.
 */
export class TradeFeeQuote1764300000000 implements MigrationInterface {
  name = 'TradeFeeQuote1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE trade ADD COLUMN fee_quote numeric`);
    await q.query(
      `UPDATE trade SET fee_quote = CASE WHEN symbol LIKE '%' || fee_currency THEN fee ELSE fee * price END`,
    );
    await q.query(`ALTER TABLE trade ALTER COLUMN fee_quote SET NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE trade DROP COLUMN IF EXISTS fee_quote`);
  }
}
