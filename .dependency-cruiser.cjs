/**
 * The layout the build holds (`npm run lint:deps`, run by .ci/run): which part of src may import which. Paths are
 * regular expressions on paths relative to the folder the cruise runs in, so a rule about a folder that does not
 * exist yet (src/composition) simply has nothing to match. test/unit/build/boundaries.test.ts plants one violation
 * of each rule in test/fixtures/boundaries and checks that the rule fires.
 *
 * Run through tools/depcruise/lint-deps.mjs, which gives dependency-cruiser the TypeScript compiler API it needs to
 * tell `import type` from a value import (see register.mjs there).
 *
 * biome.json fences the engine too, in the editor: it matches import strings, not resolved paths, so it has one
 * override per folder depth (`../` leaves src/engine from its top files, `../../` from one folder down). The rules
 * here are the exact ones.
 */

/** npm packages that reach Postgres, Redis or the queues; `pg` brings its types from @types/pg. */
const DRIVERS = '(^|/)node_modules/(@types/)?(typeorm|pg|ioredis|bullmq)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'engine-is-pure',
      comment:
        'src/engine is the pure, exact core: it imports only itself (no node built-ins, no packages, no adapters); ' +
        'decimal.js is the one package, and only money.ts takes it (engine-decimal-only-in-money).',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { pathNot: ['^src/engine/', '(^|/)node_modules/decimal\\.js/'] },
    },
    {
      name: 'engine-decimal-only-in-money',
      comment: 'Money arithmetic has one home, engine/money.ts; the rest of the engine works through it.',
      severity: 'error',
      from: { path: '^src/engine/', pathNot: '^src/engine/money\\.ts$' },
      to: { path: '(^|/)node_modules/decimal\\.js/' },
    },
    {
      name: 'surfaces-not-infrastructure',
      comment:
        'Chat, HTTP and the CLI are adapters over src/app: they never reach the stores, an exchange ' +
        'implementation or the composition root. They take app services (and charts, engine, log, config types, ' +
        'the exchange contract in exchange/exchange.ts).',
      severity: 'error',
      // src/cli/main.ts and src/cli/backtest.ts are entry points: like src/main.ts, they may ask composition for pieces.
      from: { path: '^src/(bot|http|cli)/', pathNot: '^src/cli/(main|backtest)\\.ts$' },
      to: { path: ['^src/(db|exchange/bybit|exchange/paper|composition)/', '^src/runtime\\.ts$'] },
    },
    {
      name: 'surfaces-no-drivers',
      comment:
        'Chat, HTTP and the CLI never talk to Postgres, Redis or the queues themselves, not even for a type.',
      severity: 'error',
      from: { path: '^src/(bot|http|cli)/' },
      to: { path: DRIVERS },
    },
    {
      name: 'app-ports-only',
      comment:
        'src/app declares ports and takes their implementations from the composition root: it imports db, ' +
        'exchange, market and jobs modules with `import type` only. exchange/exchange.ts is the exchange port ' +
        '(the Exchange contract and its neutral failure type), so its values may be used.',
      severity: 'error',
      from: { path: '^src/app/' },
      to: {
        path: '^src/(db|exchange|market|jobs)/',
        pathNot: '^src/exchange/exchange\\.ts$',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'app-not-surfaces',
      comment:
        'The use-case layer knows no surface and no composition root: they depend on it, not the reverse.',
      severity: 'error',
      from: { path: '^src/app/' },
      to: { path: ['^src/(composition|bot|http|cli)/', '^src/(runtime|main)\\.ts$'] },
    },
    {
      name: 'composition-only-from-main',
      comment:
        'Only the entry points (src/main.ts, src/cli/main.ts, src/cli/backtest.ts) and the composition folder ' +
        'itself assemble the application.',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: ['^src/composition/', '^src/main\\.ts$', '^src/cli/(main|backtest)\\.ts$'],
      },
      to: { path: '^src/composition/' },
    },
    {
      name: 'no-cycles',
      comment:
        'No import cycles in src, type-only imports included: a type cycle is still two modules that cannot be ' +
        'understood (or moved) one without the other.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      comment:
        'Every import resolves. Besides catching typos, this keeps the rules above honest: an import the cruise ' +
        'cannot resolve has no path for them to match.',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // A type-only import is a dependency too (the cycle and app rules need to see it); this needs TypeScript's AST.
    tsPreCompilationDeps: true,
    parser: 'tsc',
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'types', 'default'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
