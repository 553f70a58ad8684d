import { failure, reply } from '../reply.js';
import { refusal } from './format.js';
import type { CommandSpec } from './types.js';

export const risk: CommandSpec = {
  name: 'risk',
  description: 'Drawdown, error rate, breakers and the kill switch',
  example: '/risk',
  args: [],
  access: 'read',
  run: async (ctx) => {
    const r = await ctx.deps.views.risk();
    const f = r.latest;
    const lines = [
      r.killed ? `KILL SWITCH ON since ${r.killedAt} (${r.trigger})` : 'kill switch off',
      f
        ? `drawdown ${f.drawdownPct} % (${f.drawdownLevel}) · equity ${f.equity}, peak ${f.peak}`
        : 'no risk check yet',
      ...(f
        ? [
            `exchange error rate ${f.errorRatePct} % (${f.errorRateLevel}): ${f.failedCalls} of ${f.calls} calls failed, ${f.retries} retries`,
          ]
        : []),
      `volatility breakers: ${r.breakers.length ? r.breakers.join(', ') : 'none tripped'}`,
    ];
    if (r.lastIncident) {
      const i = r.lastIncident;
      lines.push(
        `last incident #${i.id} at ${i.at}: ${i.trigger} by ${i.actor}; ${i.gridsStopped} grids stopped, ${i.ordersOpenBefore} orders, ${i.ordersOpenAfter} left (${i.outcome}) in ${i.durationMs} ms; sell-off ${i.sellOff}`,
      );
    }
    return {
      ...reply('Risk', lines),
      severity: r.killed ? 'critical' : f && f.drawdownLevel !== 'ok' ? 'warning' : 'info',
    };
  },
};

export const kill: CommandSpec = {
  name: 'kill',
  description: 'Kill switch: stop every grid and cancel every order',
  example: '/kill',
  args: [],
  access: 'operate',
  confirm: async () => ({
    prompt: {
      ...reply('Pull the kill switch?', [
        'every grid stops and every order is cancelled; only /reset turns it off',
      ]),
      severity: 'critical',
    },
  }),
  run: async (ctx) => {
    const killed = await ctx.deps.risk.kill(ctx.actor, `manual: ${ctx.user.transport} ${ctx.actor.id}`);
    if (!killed.ok) return refusal(killed.error);
    const i = killed.value;
    return {
      ...reply(`Kill switch ON (incident #${i.id})`, [
        `${i.gridsStopped} grids stopped; ${i.ordersOpenBefore} open orders, ${i.ordersOpenAfter} left (${i.outcome}) in ${i.durationMs} ms`,
      ]),
      severity: 'critical',
    };
  },
};

export const reset: CommandSpec = {
  name: 'reset',
  description: 'Turn the kill switch off (after reading the incident)',
  example: '/reset',
  args: [],
  access: 'operate',
  confirm: async (ctx) => {
    const state = await ctx.deps.risk.state();
    if (!state.killed) return failure('the kill switch is not on');
    const i = state.lastIncident;
    return {
      prompt: reply('Turn the kill switch off?', [
        `on since ${state.killedAt} (${state.trigger})`,
        ...(i
          ? [
              `incident #${i.id}: ${i.gridsStopped} grids stopped, ${i.ordersOpenBefore} orders, ${i.ordersOpenAfter} left (${i.outcome})`,
            ]
          : []),
        'grids stay stopped; create or resume them yourself',
      ]),
    };
  },
  run: async (ctx) => {
    const r = await ctx.deps.risk.reset(ctx.actor);
    if (!r.ok) return refusal(r.error);
    return {
      ...reply('Kill switch off', ['new grids may start; stopped grids stay stopped']),
      severity: 'success',
    };
  },
};
