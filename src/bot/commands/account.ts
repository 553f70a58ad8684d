import type { NotificationCategory } from '../../app/ports/core.js';
import { failure, reply } from '../reply.js';
import { arg } from './format.js';
import type { CommandSpec } from './types.js';

const CATEGORIES: readonly NotificationCategory[] = ['fills', 'lifecycle', 'risk', 'tradingview', 'report'];

export const balance: CommandSpec = {
  name: 'balance',
  description: 'The account balances',
  example: '/balance',
  args: [],
  access: 'read',
  run: async (ctx) => {
    const balances = await ctx.deps.views.balances();
    return reply(
      `Balances (${ctx.deps.mode})`,
      balances.length ? balances.map((b) => `${b.asset}: ${b.total} (free ${b.free})`) : ['nothing held'],
    );
  },
};

export const notify: CommandSpec = {
  name: 'notify',
  description: 'Which notifications reach you: /notify fills off',
  example: '/notify fills off',
  args: [
    arg('category', 'fills, lifecycle, risk, tradingview or report', 'word', false, CATEGORIES),
    arg('state', 'on or off', 'word', false, ['on', 'off']),
  ],
  access: 'read',
  run: async (ctx, [category, state]) => {
    const { prefs } = ctx.deps;
    if (category !== undefined) {
      if (!(CATEGORIES as readonly string[]).includes(category))
        return failure(`unknown category "${category}": use ${CATEGORIES.join(', ')}`, '/notify fills off');
      if (state !== 'on' && state !== 'off') return failure('say on or off', `/notify ${category} off`);
      await prefs.set(ctx.user.transport, ctx.user.userId, category as NotificationCategory, state === 'on');
    }
    const muted = await prefs.muted(ctx.user.transport, ctx.user.userId);
    return reply(
      'Your notifications',
      CATEGORIES.map((c) => `${c}: ${muted.includes(c) ? 'off' : 'on'}`).concat([
        'kill-switch alerts always reach you',
      ]),
    );
  },
};

export const version: CommandSpec = {
  name: 'version',
  description: 'Version and trading mode',
  example: '/version',
  args: [],
  access: 'read',
  run: async (ctx) =>
    reply(`GridOps ${ctx.deps.version}`, [`mode ${ctx.deps.mode}`, `node ${process.version}`]),
};
