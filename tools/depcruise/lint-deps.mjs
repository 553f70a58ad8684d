/**
 * `npm run lint:deps`: checks the folders given (default: src, relative to the working directory) against
 * .dependency-cruiser.cjs, prints each violation and exits 1 if there is any. With --json it prints the whole cruise
 * result instead (test/unit/build/boundaries.test.ts reads it).
 *
 * A wrapper rather than dependency-cruiser's own CLI: the CLI exits with the number of errors, which the shell sees
 * modulo 256, so 256 violations would pass the build.
 */
import { fileURLToPath } from 'node:url';
import './register.mjs';

const CONFIG = fileURLToPath(new URL('../../.dependency-cruiser.cjs', import.meta.url));

const args = process.argv.slice(2);
const json = args.includes('--json');
const targets = args.filter((a) => a !== '--json');

// Imported only now, so that the hooks registered above are in place when dependency-cruiser loads TypeScript.
const { cruise, format } = await import('dependency-cruiser');
const { default: extractDepcruiseOptions } = await import(
  'dependency-cruiser/config-utl/extract-depcruise-options'
);

const options = await extractDepcruiseOptions(CONFIG);
const { output } = await cruise(targets.length > 0 ? targets : ['src'], { ...options, outputType: 'json' });
const result = JSON.parse(output);

// Without a TypeScript it can load, dependency-cruiser skips every .ts file and reports a clean, empty graph.
if (result.modules.length === 0) {
  process.stderr.write(
    `lint:deps: no module cruised in ${targets.join(' ') || 'src'}: the check would pass vacuously\n`,
  );
  process.exit(2);
}

if (json) {
  process.stdout.write(output);
} else {
  const report = await format(result, { outputType: 'err' });
  process.stdout.write(report.output);
}
process.exitCode = result.summary.error > 0 ? 1 : 0;
