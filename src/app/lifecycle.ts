import type { GridStatus } from '../engine/grid/state.js';

/** What an operator (or an alert) can do to a grid's life: the three lifecycle actions every surface offers. */
export type LifecycleAction = 'pause' | 'resume' | 'stop';

/**
 * From which statuses each action applies: the one table the service, the chat's "all", alerts and the dashboard's
 * buttons read, so no surface offers what the service would refuse.
 */
export const LIFECYCLE_FROM: Readonly<Record<LifecycleAction, readonly GridStatus[]>> = {
  pause: ['running', 'waiting'],
  resume: ['paused'],
  stop: ['running', 'waiting', 'paused', 'created'],
};

/** Where each action leaves a grid: a grid already there is told so rather than refused. */
export const LIFECYCLE_TO: Readonly<Record<LifecycleAction, GridStatus>> = {
  pause: 'paused',
  resume: 'running',
  stop: 'stopped',
};

export const LIFECYCLE_PAST: Readonly<Record<LifecycleAction, string>> = {
  pause: 'paused',
  resume: 'resumed',
  stop: 'stopped',
};

export function canApply(action: LifecycleAction, status: GridStatus): boolean {
  return LIFECYCLE_FROM[action].includes(status);
}
