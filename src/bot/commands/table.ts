import { reply } from '../reply.js';
import { balance, notify, version } from './account.js';
import { create, grid, orders, pause, resume, status, stop } from './grids.js';
import { backtest, market } from './market.js';
import { daily, pnl, trades } from './reports.js';
import { kill, reset, risk } from './risk.js';
import type { CommandSpec } from './types.js';

const help: CommandSpec = {
  name: 'help',
  description: 'What this bot can do',
  example: '/help',
  args: [],
  access: 'read',
  run: async (ctx) => {
    const mine = COMMANDS.filter((c) => c.access === 'read' || ctx.actor.role === 'operator');
    return reply(
      'GridOps commands',
      mine.map((c) => `${c.example} — ${c.description}${c.confirm ? ' (asks to confirm)' : ''}`),
    );
  },
};

/** Every chat command, in the order /help, Telegram's menu and Discord's slash commands list them. */
export const COMMANDS: readonly CommandSpec[] = [
  help,
  status,
  grid,
  pnl,
  trades,
  orders,
  balance,
  risk,
  create,
  pause,
  resume,
  stop,
  kill,
  reset,
  backtest,
  market,
  daily,
  notify,
  version,
];

const byName = new Map(COMMANDS.map((c) => [c.name, c]));

export function findCommand(name: string): CommandSpec | undefined {
  return byName.get(name.toLowerCase());
}
