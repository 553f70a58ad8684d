// Module resolution hooks (node:module register): dependency-cruiser's `import('typescript')` gets this folder's
// TypeScript 6. Everything else resolves as usual.
const TYPESCRIPT = /^typescript(\/|$)/;
const CRUISER = '/node_modules/dependency-cruiser/';

let here;

export function initialize(data) {
  here = data.packageUrl;
}

export function resolve(specifier, context, nextResolve) {
  if (TYPESCRIPT.test(specifier) && context.parentURL?.includes(CRUISER)) {
    return nextResolve(specifier, { ...context, parentURL: here });
  }
  return nextResolve(specifier, context);
}
