import { type ChildProcess, spawn } from 'node:child_process';
import { REDIS_URL } from './services.js';

export interface BotProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
// A failed assertion must not leave a bot trading in the background (it would skew every later test and benchmark).
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Stops every bot a test started and did not stop (for afterAll hooks). */
export async function killStrayBots(): Promise<void> {
  await Promise.all(
    [...running].map((child) => {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      return gone;
    }),
  );
}

/** Starts `node dist/src/main.js` (what `npm start` runs) with the given environment. */
export function startBot(
  env: Record<string, string>,
  args: string[] = [],
  command: [string, ...string[]] = [process.execPath, 'dist/src/main.js'],
): BotProcess {
  const [program, ...programArgs] = command;
  const child = spawn(program, [...programArgs, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      HTTP_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const feed = (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of [...waiters]) {
      if (w.pattern.test(out)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.on('data', feed);
  child.stderr!.on('data', feed);
  running.add(child);
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? -1);
    });
  });
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 20_000) {
      if (pattern.test(out)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${pattern}; output:\n${out.slice(-3000)}`)),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          if (!pattern.test(out))
            reject(new Error(`the bot exited before ${pattern}; output:\n${out.slice(-3000)}`));
        });
      });
    },
  };
}
