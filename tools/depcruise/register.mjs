/**
 * Imported first by lint-deps.mjs (`npm run lint:deps`): dependency-cruiser reads TypeScript's syntax tree to tell
 * `import type` from a value import, through the compiler API that TypeScript 7 (the project's compiler) no longer
 * ships. This folder's package brings TypeScript 6 for it alone (nested, so the project's `tsc` stays 7), and these
 * hooks point dependency-cruiser's `typescript` at it: its ESM import through a resolve hook, and the CommonJS
 * `require('typescript/package.json')` it checks the version with through the CommonJS resolver.
 */
import Module, { createRequire, register } from 'node:module';
import { sep } from 'node:path';

const packageUrl = new URL('./package.json', import.meta.url).href;
const requireHere = createRequire(packageUrl);
const TYPESCRIPT = /^typescript(\/|$)/;
const CRUISER = `${sep}node_modules${sep}dependency-cruiser${sep}`;

register('./typescript-hooks.mjs', import.meta.url, { data: { packageUrl } });

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (TYPESCRIPT.test(request) && parent?.filename?.includes(CRUISER)) return requireHere.resolve(request);
  return resolveFilename.call(this, request, parent, ...rest);
};
