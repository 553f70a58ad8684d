import { benchBacktest } from './backtest.js';
import { benchCharts } from './charts.js';
import { benchKill } from './kill.js';
import { benchFillLatency, benchScale } from './paper.js';
import { benchSoak } from './soak.js';
import { benchWebhook } from './webhook.js';

/**
 * `npm run bench [section ...]`: prints figures, asserts nothing about time. Sections: backtest, latency, scale, kill,
 * charts, webhook; and, only when named, soak (`npm run bench -- soak`: 10 minutes by default, too long for every run).
 * Exits non-zero only when a section finds the books wrong or the app crashed (the soak's invariants).
 */
const sections: Record<string, () => void | Promise<void>> = {
  backtest: benchBacktest,
  latency: benchFillLatency,
  scale: () => benchScale(Number(process.env.BENCH_SCALE_SECONDS ?? 60)),
  kill: benchKill,
  charts: benchCharts,
  webhook: () => benchWebhook(),
};
const onlyWhenNamed: Record<string, () => Promise<boolean>> = {
  soak: () => benchSoak(),
};

const only = process.argv.slice(2);
for (const [name, run] of Object.entries(sections)) {
  if (only.length === 0 || only.includes(name)) await run();
}
let failed = false;
for (const [name, run] of Object.entries(onlyWhenNamed)) {
  if (only.includes(name) && !(await run())) failed = true;
}
process.exit(failed ? 1 : 0);
