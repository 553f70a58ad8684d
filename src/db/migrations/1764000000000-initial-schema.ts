import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The first schema. Money is NUMERIC everywhere (exact; comes back as a string). Uniqueness carries correctness:
 * a client order id is placed once (grid_order, paper_order), an execution is applied once (trade.exec_id), a candle
 * is stored once per symbol, interval and time.
 */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SEQUENCE grid_number_seq`);
    await q.query(`
      CREATE TABLE grid (
        id text PRIMARY KEY DEFAULT ('g' || nextval('grid_number_seq')),
        name text NOT NULL UNIQUE,
        symbol text NOT NULL,
        lower numeric NOT NULL,
        upper numeric NOT NULL,
        grid_count integer NOT NULL CHECK (grid_count BETWEEN 2 AND 500),
        mode text NOT NULL CHECK (mode IN ('arithmetic', 'geometric')),
        investment numeric NOT NULL CHECK (investment > 0),
        stop_loss numeric,
        take_profit numeric,
        maker_fee numeric NOT NULL,
        taker_fee numeric NOT NULL,
        status text NOT NULL CHECK (status IN ('created', 'running', 'paused', 'stopped')),
        stop_reason text,
        demo boolean NOT NULL DEFAULT false,
        source text NOT NULL,
        state json NOT NULL,
        version integer NOT NULL DEFAULT 0,
        base_qty numeric NOT NULL DEFAULT 0,
        base_cost numeric NOT NULL DEFAULT 0,
        quote_balance numeric NOT NULL,
        realized_pnl numeric NOT NULL DEFAULT 0,
        fees numeric NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The engine state is rewritten on every event and only ever read whole: plain json (stored as text, no jsonb
    // conversion) without compression is the cheapest to write.
    await q.query(`ALTER TABLE grid ALTER COLUMN state SET STORAGE EXTERNAL`);
    await q.query(`CREATE INDEX grid_symbol_active ON grid (symbol) WHERE status IN ('running', 'paused')`);
    await q.query(`
      CREATE TABLE grid_order (
        client_order_id text PRIMARY KEY,
        grid_id text NOT NULL REFERENCES grid (id),
        symbol text NOT NULL,
        cell integer,
        side text NOT NULL CHECK (side IN ('buy', 'sell')),
        type text NOT NULL CHECK (type IN ('limit', 'market')),
        purpose text NOT NULL CHECK (purpose IN ('grid', 'start', 'exit')),
        price numeric,
        quantity numeric NOT NULL,
        exchange_order_id text,
        status text NOT NULL CHECK (status IN ('intent', 'placing', 'placed', 'filled', 'cancelled', 'rejected')),
        cancel_requested boolean NOT NULL DEFAULT false,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX grid_order_grid ON grid_order (grid_id, status)`);
    await q.query(
      `CREATE INDEX grid_order_pending ON grid_order (status, updated_at) WHERE status IN ('intent', 'placing', 'placed')`,
    );
    await q.query(`
      CREATE TABLE trade (
        id bigserial PRIMARY KEY,
        exec_id text NOT NULL UNIQUE,
        grid_id text NOT NULL REFERENCES grid (id),
        client_order_id text NOT NULL,
        symbol text NOT NULL,
        side text NOT NULL CHECK (side IN ('buy', 'sell')),
        purpose text NOT NULL,
        price numeric NOT NULL,
        quantity numeric NOT NULL,
        fee numeric NOT NULL,
        fee_currency text NOT NULL,
        realized_pnl numeric NOT NULL,
        executed_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX trade_grid_time ON trade (grid_id, executed_at)`);
    await q.query(`CREATE INDEX trade_time ON trade (executed_at)`);
    await q.query(`
      CREATE TABLE position (
        symbol text PRIMARY KEY,
        quantity numeric NOT NULL,
        cost_basis numeric NOT NULL,
        avg_entry numeric,
        realized_pnl numeric NOT NULL,
        unrealized_pnl numeric NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE ohlcv (
        symbol text NOT NULL,
        interval text NOT NULL,
        open_time timestamptz NOT NULL,
        open numeric NOT NULL,
        high numeric NOT NULL,
        low numeric NOT NULL,
        close numeric NOT NULL,
        volume numeric NOT NULL DEFAULT 0,
        PRIMARY KEY (symbol, interval, open_time)
      )`);
    await q.query(`
      CREATE TABLE alert (
        id bigserial PRIMARY KEY,
        source text NOT NULL,
        external_id text,
        symbol text,
        type text NOT NULL,
        payload jsonb NOT NULL,
        processed boolean NOT NULL DEFAULT false,
        outcome text,
        created_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz,
        UNIQUE (source, external_id)
      )`);
    await q.query(`
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        via text NOT NULL,
        role text NOT NULL,
        action text NOT NULL,
        target text,
        outcome text NOT NULL,
        detail jsonb
      )`);
    await q.query(`
      CREATE TABLE sync_cursor (
        name text PRIMARY KEY,
        value text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The paper exchange keeps its own book, as a real exchange would: it outlives a crash of the bot.
    await q.query(`
      CREATE TABLE paper_order (
        client_order_id text PRIMARY KEY,
        exchange_order_id text NOT NULL UNIQUE,
        symbol text NOT NULL,
        side text NOT NULL CHECK (side IN ('buy', 'sell')),
        type text NOT NULL CHECK (type IN ('limit', 'market')),
        price numeric,
        quantity numeric NOT NULL,
        filled numeric NOT NULL DEFAULT 0,
        locked numeric NOT NULL DEFAULT 0,
        place_requests integer NOT NULL DEFAULT 1,
        status text NOT NULL CHECK (status IN ('open', 'filled', 'cancelled', 'rejected')),
        reject_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX paper_order_book ON paper_order (symbol, side, price) WHERE status = 'open'`);
    await q.query(`
      CREATE TABLE paper_execution (
        seq bigserial PRIMARY KEY,
        exec_id text NOT NULL UNIQUE,
        client_order_id text NOT NULL REFERENCES paper_order (client_order_id),
        exchange_order_id text NOT NULL,
        symbol text NOT NULL,
        side text NOT NULL,
        price numeric NOT NULL,
        quantity numeric NOT NULL,
        fee numeric NOT NULL,
        fee_currency text NOT NULL,
        is_maker boolean NOT NULL,
        executed_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE paper_balance (
        asset text PRIMARY KEY,
        total numeric NOT NULL CHECK (total >= 0),
        locked numeric NOT NULL DEFAULT 0 CHECK (locked >= 0 AND locked <= total)
      )`);
    await q.query(`
      CREATE TABLE paper_market (
        symbol text PRIMARY KEY,
        last_price numeric NOT NULL,
        last_seq bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'paper_market',
      'paper_balance',
      'paper_execution',
      'paper_order',
      'sync_cursor',
      'audit_log',
      'alert',
      'ohlcv',
      'position',
      'trade',
      'grid_order',
      'grid',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
    await q.query('DROP SEQUENCE IF EXISTS grid_number_seq');
  }
}
