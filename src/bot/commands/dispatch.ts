import type { Actor } from '../../app/actor.js';
import { failure, type Reply, reply } from '../reply.js';
import { tradesPage } from './reports.js';
import { findCommand } from './table.js';
import type { ChatDeps, ChatUser, CommandContext } from './types.js';

/**
 * Runs chat commands the same way for every transport: authorizes the user, validates the arguments, asks for a
 * confirmation where the command is destructive, executes through the services, audits every attempt, and turns
 * every failure into a one-line answer (never a stack trace, never silence).
 */
export class ChatCommands {
  constructor(readonly deps: ChatDeps) {}

  actorFor(user: ChatUser): Actor | null {
    const roles = this.deps.roles[user.transport];
    if (roles.operators.includes(user.userId))
      return { id: user.userId, via: user.transport, role: 'operator' };
    if (roles.readonly.includes(user.userId))
      return { id: user.userId, via: user.transport, role: 'readonly' };
    return null;
  }

  /** A command as typed or as a slash command's options, in the order the command declares them. */
  async run(user: ChatUser, name: string, args: readonly string[]): Promise<Reply> {
    const command = findCommand(name);
    const actor = this.actorFor(user);
    if (!actor) {
      await this.audit(user, null, `/${name}`, 'refused: unauthorized');
      return failure('You are not allowed to use this bot.');
    }
    if (!command) {
      await this.audit(user, actor, `/${name}`, 'refused: unknown command');
      return failure(`unknown command /${name}`, '/help');
    }
    if (command.access === 'operate' && actor.role !== 'operator') {
      await this.audit(user, actor, `/${command.name}`, 'refused: read-only');
      return failure(`/${command.name} needs an operator; you may only read`);
    }
    const missing = command.args.find((a, i) => a.required && (args[i] === undefined || args[i] === ''));
    if (missing) {
      await this.audit(user, actor, `/${command.name}`, `refused: missing ${missing.name}`);
      return failure(`/${command.name} needs ${missing.name} (${missing.description})`, command.example);
    }
    const ctx: CommandContext = { actor, user, deps: this.deps };
    try {
      if (command.confirm) {
        const prepared = await command.confirm(ctx, args);
        if (!('prompt' in prepared)) {
          await this.audit(user, actor, `/${command.name}`, 'refused: invalid', { args });
          return prepared;
        }
        const id = await this.deps.confirmations.remember(
          { transport: user.transport, userId: user.userId, command: command.name, args },
          this.ttlMs,
        );
        await this.audit(user, actor, `/${command.name}`, 'awaiting confirmation', { args });
        return {
          ...prepared.prompt,
          lines: [...prepared.prompt.lines, `Confirm within ${Math.round(this.ttlMs / 1000)} s.`],
          severity: prepared.prompt.severity === 'info' ? 'warning' : prepared.prompt.severity,
          buttons: [
            { label: 'Confirm', data: `ok:${id}`, style: 'danger' },
            { label: 'Cancel', data: `no:${id}`, style: 'secondary' },
          ],
        };
      }
      const out = await command.run(ctx, args);
      await this.audit(
        user,
        actor,
        `/${command.name}`,
        out.severity === 'error' ? 'failed' : 'ok',
        args.length ? { args } : null,
      );
      return out;
    } catch (e) {
      await this.audit(user, actor, `/${command.name}`, `error: ${(e as Error).message}`);
      return failure(
        `/${command.name} failed: ${(e as Error).message}. Nothing was changed by this message; try again.`,
      );
    }
  }

  /** A button press: a confirmation, a cancellation, or a page of a long list. */
  async press(user: ChatUser, data: string): Promise<Reply> {
    const actor = this.actorFor(user);
    if (!actor) {
      await this.audit(user, null, `press ${data}`, 'refused: unauthorized');
      // A stranger's press on someone's prompt or list: said to the stranger alone, the message stays as it is.
      return { ...failure('You are not allowed to use this bot.'), pressRefused: true };
    }
    const page = /^pg:trades:(\d+):(\d+)$/.exec(data);
    if (page) return tradesPage({ actor, user, deps: this.deps }, page[1]!, Number(page[2]));
    const m = /^(ok|no):([0-9a-f]{16})$/.exec(data);
    if (!m) return failure('this button is not understood (it may belong to an older version)');
    const id = m[2]!;
    const pending = await this.deps.confirmations.peek(id);
    if (!pending) {
      await this.audit(user, actor, 'confirm', 'refused: expired');
      return failure('This confirmation has expired or was used already; send the command again.');
    }
    if (pending.transport !== user.transport || pending.userId !== user.userId) {
      await this.audit(user, actor, `confirm /${pending.command}`, 'refused: not the asker');
      return { ...failure('Only the user who asked can confirm this.'), pressRefused: true };
    }
    // Taken at most once, even if the button is pressed twice at the same moment.
    if (!(await this.deps.confirmations.take(id))) return failure('This confirmation was used already.');
    if (m[1] === 'no') {
      await this.audit(user, actor, `/${pending.command}`, 'cancelled');
      return reply(`/${pending.command} cancelled`, ['nothing was changed']);
    }
    const command = findCommand(pending.command)!;
    if (command.access === 'operate' && actor.role !== 'operator')
      return failure(`/${command.name} needs an operator`);
    try {
      const out = await command.run({ actor, user, deps: this.deps }, pending.args);
      await this.audit(
        user,
        actor,
        `/${command.name}`,
        out.severity === 'error' ? 'failed' : 'confirmed: ok',
        { args: pending.args },
      );
      return out;
    } catch (e) {
      await this.audit(user, actor, `/${command.name}`, `error: ${(e as Error).message}`);
      return failure(`/${command.name} failed: ${(e as Error).message}`);
    }
  }

  /** Symbols for autocomplete: the market's and those of existing grids, filtered by what was typed. */
  suggestSymbols(typed: string): Promise<string[]> {
    return this.deps.symbols.suggest(typed);
  }

  private get ttlMs(): number {
    return this.deps.confirmTtlMs ?? 60_000;
  }

  /** Every attempt, refused ones too (a stranger with the role 'none'); the chat name rides in the detail. */
  private async audit(
    user: ChatUser,
    actor: Actor | null,
    action: string,
    outcome: string,
    detail: object | null = null,
  ): Promise<void> {
    await this.deps.audit.record({
      actor: { id: user.userId, via: user.transport, role: actor?.role ?? 'none' },
      action,
      target: 'chat',
      outcome,
      detail: detail === null ? null : { ...detail, ...(user.name ? { name: user.name } : {}) },
    });
  }
}
