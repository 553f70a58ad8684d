import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type {
  Incident,
  KillFlag,
  KillState,
  KillSwitchStore,
  NewIncident,
  PriceCheckState,
  RiskBook,
  RiskFigureStore,
  RiskFigures,
} from '../app/ports/risk.js';
import type { Level } from '../engine/risk/rules.js';
import { RedisScript } from './redis-script.js';

/** The kill switch in Postgres: `risk_state` (one row) and `risk_incident`. */
export class PgKillSwitchStore implements KillSwitchStore {
  constructor(private readonly ds: DataSource) {}

  async state(): Promise<KillState> {
    const [row] = (await this.ds.query(
      `SELECT killed, killed_at, trigger, figures FROM risk_state WHERE id = 1`,
    )) as {
      killed: boolean;
      killed_at: Date | null;
      trigger: string | null;
      figures: unknown;
    }[];
    const [incident] = (await this.ds.query(
      `SELECT * FROM risk_incident ORDER BY id DESC LIMIT 1`,
    )) as Record<string, unknown>[];
    return {
      killed: row?.killed ?? false,
      killedAt: row?.killed_at ? new Date(row.killed_at).toISOString() : null,
      trigger: row?.trigger ?? null,
      figures: row?.figures ?? null,
      lastIncident: incident ? toIncident(incident) : null,
    };
  }

  async claimKill(trigger: string, figures: unknown): Promise<boolean> {
    const [[claimed]] = (await this.ds.query(
      `UPDATE risk_state SET killed = true, killed_at = now(), trigger = $1, figures = $2, reset_at = NULL, reset_by = NULL
        WHERE id = 1 AND NOT killed RETURNING killed_at`,
      [trigger, JSON.stringify(figures)],
    )) as [{ killed_at: Date }[], number];
    return claimed !== undefined;
  }

  async claimReset(by: string): Promise<boolean> {
    const [[row]] = (await this.ds.query(
      `UPDATE risk_state SET killed = false, reset_at = now(), reset_by = $1 WHERE id = 1 AND killed RETURNING id`,
      [by],
    )) as [{ id: number }[], number];
    return row !== undefined;
  }

  async recordIncident(i: NewIncident): Promise<Incident> {
    const [row] = (await this.ds.query(
      `INSERT INTO risk_incident (trigger, actor, figures, orders_open_before, orders_open_after, grids_stopped, duration_ms,
         outcome, sell_off) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      [
        i.trigger,
        i.actor,
        JSON.stringify(i.figures),
        i.ordersOpenBefore,
        i.ordersOpenAfter,
        i.gridsStopped,
        i.durationMs,
        i.outcome,
        i.sellOff,
      ],
    )) as Record<string, unknown>[];
    return toIncident(row!);
  }

  async gridsToStop(): Promise<string[]> {
    const rows = (await this.ds.query(
      `SELECT id FROM grid WHERE status IN ('running', 'waiting', 'paused', 'created')`,
    )) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async stoppedHoldingBase(ids: readonly string[]): Promise<string[]> {
    const rows = (await this.ds.query(
      `SELECT id FROM grid WHERE id = ANY($1) AND status = 'stopped' AND base_qty > 0 ORDER BY id`,
      [[...ids]],
    )) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async cancelsToConfirm(): Promise<string[]> {
    const rows = (await this.ds.query(
      `SELECT client_order_id FROM grid_order WHERE status = 'placed' AND cancel_requested`,
    )) as { client_order_id: string }[];
    return rows.map((r) => r.client_order_id);
  }
}

function toIncident(r: Record<string, unknown>): Incident {
  return {
    id: String(r.id),
    at: new Date(r.at as Date).toISOString(),
    trigger: String(r.trigger),
    actor: String(r.actor),
    figures: r.figures ?? null,
    ordersOpenBefore: Number(r.orders_open_before),
    ordersOpenAfter: Number(r.orders_open_after),
    gridsStopped: Number(r.grids_stopped),
    durationMs: Number(r.duration_ms),
    outcome: r.outcome as Incident['outcome'],
    sellOff: String(r.sell_off ?? 'off'),
  };
}

/** The kill flag under the database's scope (`<scope>:killed`): '1' while killed, absent otherwise. */
export class RedisKillFlag implements KillFlag {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    scope: string,
  ) {
    this.key = `${scope}:killed`;
  }

  async isKilled(): Promise<boolean> {
    return (await this.redis.get(this.key)) === '1';
  }

  async set(on: boolean): Promise<void> {
    if (on) await this.redis.set(this.key, '1');
    else await this.redis.del(this.key);
  }
}

/** A breaker calm before this trip (no score, or one in the past) ends its warning's episode; then it is tripped. */
const TRIP_BREAKER = new RedisScript(`
local was = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (not was) or tonumber(was) < tonumber(ARGV[3]) then redis.call('HDEL', KEYS[2], ARGV[4]) end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
`);

/**
 * A warning's record is 'level|episode|told' (told: 1 once announced); no record means 'ok'. A change to a level worth
 * a warning draws the episode id from Redis's own clock (microseconds), so it is unique across processes, databases
 * and restarts, and is recorded before anyone announces it: every announcer, a retried one included, uses that id.
 */
const RAISE_WARNING = new RedisScript(`
local level, episode, told = 'ok', '', '1'
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local l, e, t = string.match(cur, '^([^|]*)|([^|]*)|([^|]*)$')
  if l then level, episode, told = l, e, t end
end
if level == ARGV[2] then
  if told == '0' then return episode end
  return false
end
if ARGV[2] == 'ok' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return false
end
local now = redis.call('TIME')
episode = now[1] .. string.format('%06d', tonumber(now[2]))
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. episode .. '|0')
return episode
`);

const WARNING_ANNOUNCED = new RedisScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local l, e = string.match(cur, '^([^|]*)|([^|]*)|0$')
  if l and e == ARGV[2] then redis.call('HSET', KEYS[1], ARGV[1], l .. '|' .. e .. '|1') end
end
return 1
`);

/** The risk figures in Redis, every key under `<scope>:risk:`. */
export class RedisRiskFigures implements RiskFigureStore {
  constructor(
    private readonly redis: Redis,
    private readonly scope: string,
  ) {}

  private key(name: string): string {
    return `${this.scope}:risk:${name}`;
  }

  async noteReferences(prices: readonly { symbol: string; price: string }[], ttlMs: number): Promise<void> {
    if (prices.length === 0) return;
    const multi = this.redis.multi();
    for (const p of prices) multi.set(this.key(`ref:${p.symbol}`), p.price, 'PX', ttlMs);
    await multi.exec();
  }

  async priceCheck(symbol: string): Promise<PriceCheckState> {
    const [previous, held, reference] = await this.redis.mget(
      this.key(`last:${symbol}`),
      this.key(`held:${symbol}`),
      this.key(`ref:${symbol}`),
    );
    return { previous: previous ?? null, held: held ?? null, reference: reference ?? null };
  }

  async holdPrice(symbol: string, price: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.key(`held:${symbol}`), price, 'PX', ttlMs);
  }

  async admitPrice(symbol: string, price: string, endsWarnings: readonly string[]): Promise<void> {
    const multi = this.redis
      .multi()
      .set(this.key(`last:${symbol}`), price)
      .del(this.key(`held:${symbol}`));
    if (endsWarnings.length) multi.hdel(this.key('said'), ...endsWarnings);
    await multi.exec();
  }

  async pushPrice(symbol: string, price: string, window: number): Promise<string[]> {
    const key = this.key(`prices:${symbol}`);
    const results = await this.redis
      .multi()
      .rpush(key, price)
      .ltrim(key, -window, -1)
      .lrange(key, 0, -1)
      .exec();
    const [error, list] = results?.[2] ?? [new Error('the volatility window was not read')];
    if (error) throw error;
    return list as string[];
  }

  async tripBreaker(symbol: string, untilMs: number, nowMs: number, warning: string): Promise<void> {
    await TRIP_BREAKER.run(
      this.redis,
      [this.key('breakers'), this.key('said')],
      [symbol, untilMs, nowMs, warning],
    );
  }

  async trippedSymbols(nowMs: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.key('breakers'), nowMs, '+inf');
  }

  async peak(): Promise<string | null> {
    return this.redis.get(this.key('peak'));
  }

  async setPeak(peak: string): Promise<void> {
    await this.redis.set(this.key('peak'), peak);
  }

  async saveLatest(figures: RiskFigures): Promise<void> {
    await this.redis.set(this.key('latest'), JSON.stringify(figures));
  }

  async latest(): Promise<RiskFigures | null> {
    const raw = await this.redis.get(this.key('latest'));
    return raw ? (JSON.parse(raw) as RiskFigures) : null;
  }

  async raiseWarning(what: string, level: Level): Promise<string | null> {
    const episode = await RAISE_WARNING.run(this.redis, [this.key('said')], [what, level]);
    return typeof episode === 'string' ? episode : null;
  }

  async warningAnnounced(what: string, episode: string): Promise<void> {
    await WARNING_ANNOUNCED.run(this.redis, [this.key('said')], [what, episode]);
  }
}

/** The book's holdings and the figures' history (`risk_metric`) in Postgres. */
export class PgRiskBook implements RiskBook {
  constructor(private readonly ds: DataSource) {}

  async holdings(): Promise<{ symbol: string; quoteBalance: string; baseQty: string }[]> {
    const grids = (await this.ds.query(`SELECT symbol, quote_balance, base_qty FROM grid`)) as {
      symbol: string;
      quote_balance: string;
      base_qty: string;
    }[];
    return grids.map((g) => ({ symbol: g.symbol, quoteBalance: g.quote_balance, baseQty: g.base_qty }));
  }

  async recordSnapshot(level: Level, figures: RiskFigures): Promise<void> {
    await this.ds.query(`INSERT INTO risk_metric (kind, level, figures) VALUES ('snapshot', $1, $2)`, [
      level,
      JSON.stringify(figures),
    ]);
  }
}
