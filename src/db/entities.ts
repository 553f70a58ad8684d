import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

// Entities mirror the migrations in ./migrations (the migrations are the schema's source; synchronize stays off).
// NUMERIC columns are typed string: exact decimals, never floats.

@Entity({ name: 'grid' })
export class GridConfig {
  @PrimaryColumn('text') id!: string;
  @Column('text') name!: string;
  @Column('text') symbol!: string;
  @Column('numeric') lower!: string;
  @Column('numeric') upper!: string;
  @Column('integer', { name: 'grid_count' }) gridCount!: number;
  @Column('text') mode!: 'arithmetic' | 'geometric';
  @Column('numeric') investment!: string;
  @Column('numeric', { name: 'stop_loss', nullable: true }) stopLoss!: string | null;
  @Column('numeric', { name: 'take_profit', nullable: true }) takeProfit!: string | null;
  @Column('numeric', { name: 'maker_fee' }) makerFee!: string;
  @Column('numeric', { name: 'taker_fee' }) takerFee!: string;
  @Column('text') status!: 'created' | 'running' | 'paused' | 'stopped';
  @Column('text', { name: 'stop_reason', nullable: true }) stopReason!: string | null;
  @Column('boolean') demo!: boolean;
  @Column('text') source!: string;
  @Column('json') state!: unknown;
  @Column('integer') version!: number;
  @Column('numeric', { name: 'base_qty' }) baseQty!: string;
  /** What the base held cost: the sum of each held lot's quantity x entry price. */
  @Column('numeric', { name: 'base_cost' }) baseCost!: string;
  @Column('numeric', { name: 'quote_balance' }) quoteBalance!: string;
  @Column('numeric', { name: 'realized_pnl' }) realizedPnl!: string;
  @Column('numeric') fees!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

@Entity({ name: 'grid_order' })
export class GridOrder {
  @PrimaryColumn('text', { name: 'client_order_id' }) clientOrderId!: string;
  @Column('text', { name: 'grid_id' }) gridId!: string;
  @Column('text') symbol!: string;
  @Column('integer', { nullable: true }) cell!: number | null;
  @Column('text') side!: 'buy' | 'sell';
  @Column('text') type!: 'limit' | 'market';
  @Column('text') purpose!: 'grid' | 'start' | 'exit';
  @Column('numeric', { nullable: true }) price!: string | null;
  @Column('numeric') quantity!: string;
  @Column('text', { name: 'exchange_order_id', nullable: true }) exchangeOrderId!: string | null;
  /** intent → placing → placed → filled | cancelled; or intent → cancelled (never sent), or → rejected. */
  @Column('text') status!: 'intent' | 'placing' | 'held' | 'placed' | 'filled' | 'cancelled' | 'rejected';
  @Column('boolean', { name: 'cancel_requested' }) cancelRequested!: boolean;
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

@Entity({ name: 'trade' })
export class Trade {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('text', { name: 'exec_id' }) execId!: string;
  @Column('text', { name: 'grid_id' }) gridId!: string;
  @Column('text', { name: 'client_order_id' }) clientOrderId!: string;
  /** The exchange's id of the order that filled; null on old rows whose order never learned it. */
  @Column('text', { name: 'exchange_order_id', nullable: true }) exchangeOrderId!: string | null;
  @Column('text') symbol!: string;
  @Column('text') side!: 'buy' | 'sell';
  @Column('text') purpose!: string;
  @Column('numeric') price!: string;
  @Column('numeric') quantity!: string;
  @Column('numeric') fee!: string;
  @Column('text', { name: 'fee_currency' }) feeCurrency!: string;
  @Column('numeric', { name: 'realized_pnl' }) realizedPnl!: string;
  @Column('timestamptz', { name: 'executed_at' }) executedAt!: Date;
  @Column('timestamptz', { name: 'recorded_at' }) recordedAt!: Date;
}

@Entity({ name: 'position' })
export class Position {
  @PrimaryColumn('text') symbol!: string;
  @Column('numeric') quantity!: string;
  @Column('numeric', { name: 'cost_basis' }) costBasis!: string;
  @Column('numeric', { name: 'avg_entry', nullable: true }) avgEntry!: string | null;
  @Column('numeric', { name: 'realized_pnl' }) realizedPnl!: string;
  @Column('numeric', { name: 'unrealized_pnl' }) unrealizedPnl!: string;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

@Entity({ name: 'ohlcv' })
export class Ohlcv {
  @PrimaryColumn('text') symbol!: string;
  @PrimaryColumn('text') interval!: string;
  @PrimaryColumn('timestamptz', { name: 'open_time' }) openTime!: Date;
  @Column('numeric') open!: string;
  @Column('numeric') high!: string;
  @Column('numeric') low!: string;
  @Column('numeric') close!: string;
  @Column('numeric') volume!: string;
}

@Entity({ name: 'alert' })
export class Alert {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('text') source!: string;
  @Column('text', { name: 'external_id', nullable: true }) externalId!: string | null;
  @Column('text', { nullable: true }) symbol!: string | null;
  @Column('text') type!: string;
  @Column('jsonb') payload!: unknown;
  @Column('boolean') processed!: boolean;
  @Column('text', { nullable: true }) outcome!: string | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'processed_at', nullable: true }) processedAt!: Date | null;
  @Column('text', { nullable: true }) sender!: string | null;
}

@Entity({ name: 'audit_log' })
export class AuditLog {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('timestamptz') at!: Date;
  @Column('text') actor!: string;
  @Column('text') via!: string;
  @Column('text') role!: string;
  @Column('text') action!: string;
  @Column('text', { nullable: true }) target!: string | null;
  @Column('text') outcome!: string;
  @Column('jsonb', { nullable: true }) detail!: unknown;
}

@Entity({ name: 'sync_cursor' })
export class SyncCursor {
  @PrimaryColumn('text') name!: string;
  @Column('text') value!: string;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

@Entity({ name: 'paper_order' })
export class PaperOrder {
  @PrimaryColumn('text', { name: 'client_order_id' }) clientOrderId!: string;
  @Column('text', { name: 'exchange_order_id' }) exchangeOrderId!: string;
  @Column('text') symbol!: string;
  @Column('text') side!: 'buy' | 'sell';
  @Column('text') type!: 'limit' | 'market';
  @Column('numeric', { nullable: true }) price!: string | null;
  @Column('numeric') quantity!: string;
  @Column('numeric') filled!: string;
  @Column('numeric') locked!: string;
  /** How many times this client order id was sent: the first creates the order, the rest are answered "already placed". */
  @Column('integer', { name: 'place_requests' }) placeRequests!: number;
  @Column('text') status!: 'open' | 'filled' | 'cancelled' | 'rejected';
  @Column('text', { name: 'reject_reason', nullable: true }) rejectReason!: string | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

@Entity({ name: 'paper_execution' })
export class PaperExecution {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) seq!: string;
  @Column('text', { name: 'exec_id' }) execId!: string;
  @Column('text', { name: 'client_order_id' }) clientOrderId!: string;
  @Column('text', { name: 'exchange_order_id' }) exchangeOrderId!: string;
  @Column('text') symbol!: string;
  @Column('text') side!: 'buy' | 'sell';
  @Column('numeric') price!: string;
  @Column('numeric') quantity!: string;
  @Column('numeric') fee!: string;
  @Column('text', { name: 'fee_currency' }) feeCurrency!: string;
  @Column('boolean', { name: 'is_maker' }) isMaker!: boolean;
  @Column('timestamptz', { name: 'executed_at' }) executedAt!: Date;
}

@Entity({ name: 'paper_balance' })
export class PaperBalance {
  @PrimaryColumn('text') asset!: string;
  @Column('numeric') total!: string;
  @Column('numeric') locked!: string;
}

@Entity({ name: 'paper_market' })
export class PaperMarket {
  @PrimaryColumn('text') symbol!: string;
  @Column('numeric', { name: 'last_price' }) lastPrice!: string;
  @Column('bigint', { name: 'last_seq' }) lastSeq!: string;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

export const ENTITIES = [
  GridConfig,
  GridOrder,
  Trade,
  Position,
  Ohlcv,
  Alert,
  AuditLog,
  SyncCursor,
  PaperOrder,
  PaperExecution,
  PaperBalance,
  PaperMarket,
];
