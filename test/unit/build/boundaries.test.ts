import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The layout rules fail the build when broken. `npm run lint:deps` (tools/depcruise/lint-deps.mjs with
 * .dependency-cruiser.cjs) is run on test/fixtures/boundaries, a tree with one planted violation of each rule next to
 * imports the rules must allow; Biome's rules (process.env only in config.ts, the engine's fence) are run with the
 * real biome.json on planted files in a scratch folder. Both use the same commands and configuration as .ci/run.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = join(ROOT, 'test/fixtures/boundaries');
const LINT_DEPS = join(ROOT, 'tools/depcruise/lint-deps.mjs');
const BIOME = join(ROOT, 'node_modules/@biomejs/biome/bin/biome');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

interface Dependency {
  resolved: string;
  dependencyTypes: string[];
}
interface Violation {
  from: string;
  to: string;
  rule: { name: string };
  dependencyTypes?: string[];
  cycle?: { name: string; dependencyTypes: string[] }[];
}
interface CruiseResult {
  modules: { source: string; dependencies: Dependency[] }[];
  summary: { error: number; violations: Violation[] };
}

async function cruise(...targets: string[]): Promise<{ code: number; result: CruiseResult }> {
  const { code, stdout, stderr } = await run([LINT_DEPS, '--json', ...targets], FIXTURE);
  expect(stderr).toBe('');
  return { code, result: JSON.parse(stdout) as CruiseResult };
}

/** A package by its name (wherever node_modules is), a node built-in without its `node:` prefix. */
function target(path: string): string {
  return path.match(/(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? path.replace(/^node:/, '');
}

/** A violation as `rule: from → to`; a cycle by its members, whichever of its edges it is reported on. */
function key(v: Violation): string {
  if (v.cycle)
    return `${v.rule.name}: ${[...new Set([v.from, ...v.cycle.map((m) => m.name)])].sort().join(' ⇄ ')}`;
  return `${v.rule.name}: ${v.from} → ${target(v.to)}`;
}

describe('dependency rules (npm run lint:deps)', () => {
  const fixture = cruise('src');

  it('report exactly the violations planted in the fixture, and fail', async () => {
    const { code, result } = await fixture;
    expect(result.summary.violations.map(key).sort()).toEqual([
      'app-not-surfaces: src/app/reports.ts → src/bot/format.ts',
      'app-ports-only: src/app/orders.ts → src/db/order-store.ts',
      'composition-only-from-main: src/http/route.ts → src/composition/services.ts',
      'engine-decimal-only-in-money: src/engine/fees.ts → decimal.js',
      'engine-is-pure: src/engine/step.ts → fs',
      'engine-is-pure: src/engine/step.ts → src/app/orders.ts',
      'no-cycles: src/app/cycle-a.ts ⇄ src/app/cycle-b.ts',
      'no-unresolvable: src/bot/missing.ts → ./gone.js',
      'surfaces-no-drivers: src/bot/command.ts → pg',
      'surfaces-no-drivers: src/bot/command.ts → typeorm',
      'surfaces-not-infrastructure: src/cli/run.ts → src/runtime.ts',
      'surfaces-not-infrastructure: src/http/route.ts → src/composition/services.ts',
      'surfaces-not-infrastructure: src/http/route.ts → src/db/order-store.ts',
    ]);
    expect(result.summary.error).toBe(13);
    expect(code).toBe(1);
  });

  it('have a planted violation for every rule in the configuration', async () => {
    const { result } = await fixture;
    const config = createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as {
      forbidden: { name: string }[];
    };
    const fired = new Set(result.summary.violations.map((v) => v.rule.name));
    expect(config.forbidden.map((r) => r.name).filter((name) => !fired.has(name))).toEqual([]);
  });

  it('see type-only imports: a cycle of `import type` alone is one, and app may import db types', async () => {
    const { result } = await fixture;
    const cycle = result.summary.violations.filter((v) => v.rule.name === 'no-cycles');
    expect(cycle.flatMap((v) => v.cycle?.map((m) => m.dependencyTypes))).toEqual([
      expect.arrayContaining(['type-only']),
      expect.arrayContaining(['type-only']),
    ]);
    const grids = result.modules.find((m) => m.source === 'src/app/grids.ts');
    expect(grids?.dependencies).toEqual([
      expect.objectContaining({
        resolved: 'src/db/grid-store.ts',
        dependencyTypes: expect.arrayContaining(['type-only']),
      }),
    ]);
  });

  it('allow what the layout allows, having seen those imports', async () => {
    const { result } = await fixture;
    const edges = result.modules.flatMap((m) =>
      m.dependencies.map((d) => `${m.source} → ${target(d.resolved)}`),
    );
    const allowed = [
      'src/main.ts → src/composition/services.ts',
      'src/composition/services.ts → src/db/order-store.ts',
      'src/app/orders.ts → src/exchange/exchange.ts',
      'src/app/grids.ts → src/db/grid-store.ts',
      'src/engine/money.ts → decimal.js',
      'src/engine/fees.ts → src/engine/money.ts',
      'src/bot/command.ts → src/app/orders.ts',
    ];
    expect(edges).toEqual(expect.arrayContaining(allowed));
    const flagged = new Set(result.summary.violations.map((v) => `${v.from} → ${target(v.to)}`));
    expect(allowed.filter((edge) => flagged.has(edge))).toEqual([]);
  });

  it('pass (exit 0) on a part of the tree that keeps the rules', async () => {
    const { code, result } = await cruise(
      'src/db',
      'src/exchange',
      'src/engine/money.ts',
      'src/app/grids.ts',
    );
    expect(result.modules.map((m) => m.source)).toEqual(
      expect.arrayContaining(['src/app/grids.ts', 'src/db/grid-store.ts', 'src/engine/money.ts']),
    );
    expect(result.summary.violations).toEqual([]);
    expect(code).toBe(0);
  });

  it('fail when nothing was cruised (what a missing TypeScript API looks like) rather than pass vacuously', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'gridops-depcruise-'));
    try {
      mkdirSync(join(empty, 'src'));
      writeFileSync(join(empty, 'src/notes.txt'), 'not a module\n');
      const { code, stderr } = await run([LINT_DEPS, 'src'], empty);
      expect(stderr).toContain('no module cruised');
      expect(code).toBe(2);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

/** Planted files for Biome, by path: which of the rules each must trip (none: it must pass). */
const BIOME_CASES: Record<string, { source: string; trips: string[] }> = {
  'src/app/settings.ts': { source: 'export const port = process.env.PORT;\n', trips: ['noProcessEnv'] },
  'src/config.ts': { source: 'export const port = process.env.PORT;\n', trips: [] },
  'bench/run.ts': { source: 'export const runs = process.env.RUNS;\n', trips: [] },
  'test/support/setup.ts': { source: 'export const url = process.env.DATABASE_URL;\n', trips: [] },
  'vitest.config.ts': { source: 'export const report = process.env.VITEST_JSON;\n', trips: [] },
  'src/engine/noise.ts': { source: 'export const noise = (): number => Math.random();\n', trips: ['plugin'] },
  'src/engine/grid/noise.ts': {
    source: 'const { random } = Math;\nexport const r = random;\n',
    trips: ['plugin'],
  },
  'src/engine/bounds.ts': {
    source: 'const { min } = Math;\nexport const clamp = (x: number): number => Math.max(0, min(1, x));\n',
    trips: [],
  },
  'src/engine/clock.ts': {
    source: 'export const now = (): number => Date.now();\n',
    trips: ['noRestrictedGlobals'],
  },
  'src/engine/io.ts': {
    source:
      "import { readFileSync } from 'node:fs';\n\nexport const read = (p: string): string => readFileSync(p, 'utf8');\n",
    trips: ['noRestrictedImports'],
  },
  'src/engine/top.ts': {
    source: "import { row } from '../db/rows.js';\n\nexport const first = row;\n",
    trips: ['noRestrictedImports'],
  },
  'src/engine/grid/leave.ts': {
    source: "import { order } from '../../app/orders.js';\n\nexport const placed = order;\n",
    trips: ['noRestrictedImports'],
  },
  'src/engine/grid/fee.ts': {
    source: "import { Decimal } from 'decimal.js';\n\nexport const one = new Decimal(1);\n",
    trips: ['noRestrictedImports'],
  },
  'src/engine/grid/types.ts': {
    source: "import type { Pool } from 'pg';\n\nexport type P = Pool;\n",
    trips: ['noRestrictedImports'],
  },
  'src/engine/money.ts': {
    source:
      "import { Decimal } from 'decimal.js';\nimport { step } from './grid/inside.js';\n\nexport const d = new Decimal(step);\n",
    trips: [],
  },
  'src/engine/grid/inside.ts': {
    source: "import { d } from '../money.js';\nimport { w } from './w.js';\n\nexport const step = d + w;\n",
    trips: [],
  },
  'src/engine/risk/deep/rule.ts': {
    source:
      "import { d } from '../../../money.js';\nimport { x } from '../../../../app/x.js';\n\nexport const r = d + x;\n",
    trips: ['noRestrictedImports'],
  },
};

describe('Biome rules (biome.json, as `biome check` in .ci/run applies them)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'gridops-biome-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('keep process.env in src/config.ts (and bench, tests) and fence the engine', async () => {
    cpSync(join(ROOT, 'biome.json'), join(scratch, 'biome.json'));
    cpSync(join(ROOT, 'tools/biome'), join(scratch, 'tools/biome'), { recursive: true });
    for (const [file, { source }] of Object.entries(BIOME_CASES)) {
      mkdirSync(dirname(join(scratch, file)), { recursive: true });
      writeFileSync(join(scratch, file), source);
    }
    const { stdout } = await run(
      [BIOME, 'lint', '--vcs-enabled=false', '--reporter=json', '--max-diagnostics=none', '.'],
      scratch,
    );
    const report = JSON.parse(stdout) as { diagnostics: { category: string; location: { path: string } }[] };
    const fence = new Set(['noProcessEnv', 'noRestrictedImports', 'noRestrictedGlobals', 'plugin']);
    const tripped = report.diagnostics
      .map((d) => `${d.location.path}: ${d.category.split('/').at(-1)}`)
      .filter((line) => fence.has(line.split(': ')[1]!));
    const expected = Object.entries(BIOME_CASES).flatMap(([file, { trips }]) =>
      trips.map((r) => `${file}: ${r}`),
    );
    expect([...new Set(tripped)].sort()).toEqual(expected.sort());
  });
});
