import { benchBacktest } from './backtest.js';
import { benchCharts } from './charts.js';
import { benchKill } from './kill.js';
import { benchFillLatency, benchScale } from './paper.js';
import { benchWebhook } from './webhook.js';

/**
 * `npm run bench [section ...]`: prints figures, asserts nothing about time. Sections: backtest, latency, scale, kill,
 * charts, webhook.
 */
const sections: Record<string, () => void | Promise<void>> = {
  backtest: benchBacktest,
  latency: benchFillLatency,
  scale: () => benchScale(Number(process.env.BENCH_SCALE_SECONDS ?? 60)),
  kill: benchKill,
  charts: benchCharts,
  webhook: () => benchWebhook(),
};

const only = process.argv.slice(2);
for (const [name, run] of Object.entries(sections)) {
  if (only.length === 0 || only.includes(name)) await run();
}
process.exit(0);
