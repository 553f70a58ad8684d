import type { ServiceError } from '../../app/actor.js';
import type { GridSummary } from '../../app/grid-service.js';
import { failure, type Reply } from '../reply.js';
import type { ArgKind, ArgSpec, ChatDeps } from './types.js';

export const arg = (
  name: string,
  description: string,
  kind: ArgKind,
  required = true,
  choices?: readonly string[],
): ArgSpec => ({ name, description, kind, required, ...(choices ? { choices } : {}) });

/** The range a grid spans, as /create and /backtest take it. */
export const RANGE_ARGS: readonly ArgSpec[] = [
  arg('symbol', 'Symbol such as BTCUSDT', 'symbol'),
  arg('lower', 'Lowest grid price', 'decimal'),
  arg('upper', 'Highest grid price', 'decimal'),
  arg('grids', 'Number of grids (2-500)', 'integer'),
];

/** A one-line explanation of a service refusal; the user can act on it. */
export function refusal(error: ServiceError, example?: string): Reply {
  const hint = error.kind === 'invalid' ? example : undefined;
  return failure(error.message, hint);
}

export const money = (v: string | null | undefined) => v ?? '–';

/** Charts take display numbers; every figure in the text beside them is the exact decimal string. */
export const num = (v: string) => Number(v);

/** A grid in four lines: what /status lists and every lifecycle answer repeats. */
export function gridLines(g: GridSummary, deps: Pick<ChatDeps, 'instrument' | 'mode'>): string[] {
  const inst = deps.instrument(g.symbol);
  const base = inst?.baseAsset ?? '';
  return [
    `${g.id} ${g.symbol} · ${g.status}${g.stopReason ? ` (${g.stopReason})` : ''} · ${g.demo ? 'demo' : deps.mode}`,
    `price ${money(g.lastPrice)} · range ${g.lower}–${g.upper} · ${g.grids} ${g.mode} grids`,
    `position ${g.baseQty} ${base} · ${g.openOrders} open orders`,
    `realized ${g.realizedPnl} (fees ${g.fees}) · unrealized ${money(g.unrealizedPnl)}`,
  ];
}
