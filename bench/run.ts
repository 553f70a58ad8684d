import { benchBacktest } from './backtest.js';

/** `npm run bench`: prints figures, asserts nothing about time. */
const sections: Record<string, () => void | Promise<void>> = {
  backtest: benchBacktest,
};

const only = process.argv.slice(2);
for (const [name, run] of Object.entries(sections)) {
  if (only.length === 0 || only.includes(name)) await run();
}
