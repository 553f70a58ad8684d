import { execFileSync } from 'node:child_process';

/** End-to-end tests run the built CLI, as a user does: build once so they never test a stale dist/. */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
}
