import { monitorEventLoopDelay } from 'node:perf_hooks';
import { GCProfiler, writeHeapSnapshot } from 'node:v8';

/*
 * Loaded into the app by `npm run bench -- soak` (`node --import dist/bench/soak-probe.js dist/src/main.js`): the
 * figures only the app's own process can read (its heap, its event loop's delay), sent to the bench when it asks over
 * the IPC channel. It changes nothing in the app. Without an IPC channel (an ordinary start) it does nothing.
 */
export interface ProbeSample {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  /**
   * Heap used right after the last full (mark-compact) collection since the previous sample: the live objects, which
   * a leak grows, without the garbage that makes heapUsed and RSS swing by 100 MB between two reads. Null when no full
   * collection ran meanwhile.
   */
  readonly liveHeap: number | null;
  readonly fullGcs: number;
  /** Event-loop delay since the previous sample, and since `start`, in ms. */
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  readonly runLoopP99Ms: number;
  readonly runLoopMaxMs: number;
}

export type ProbeRequest =
  | { readonly probe: 'start' }
  | { readonly probe: 'sample' }
  | { readonly probe: 'snapshot'; readonly file: string };

export type ProbeReply =
  | { readonly probe: 'sample'; readonly sample: ProbeSample }
  | { readonly probe: 'snapshot'; readonly file: string };

if (process.send) {
  const send = process.send.bind(process);
  // A 10 ms timer's lateness, sampled continuously: what any callback (a job, a request) waits behind other work.
  const perMinute = monitorEventLoopDelay({ resolution: 10 });
  const wholeRun = monitorEventLoopDelay({ resolution: 10 });
  const ms = (ns: number) => ns / 1e6;
  // With BENCH_SOAK_NODE_ARGS=--expose-gc, memory is read after a full collection: the live heap, not the garbage.
  const gc = (globalThis as { gc?: () => void }).gc;
  let gcs = new GCProfiler();
  process.on('message', (m: ProbeRequest) => {
    if (m.probe === 'start') {
      perMinute.reset();
      wholeRun.reset();
      perMinute.enable();
      wholeRun.enable();
      gcs.start();
    } else if (m.probe === 'sample') {
      gc?.();
      const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
      // A profiler per interval: what it records (a few hundred entries a minute) is dropped with it.
      const full = (gcs.stop()?.statistics ?? []).filter((g) => g.gcType === 'MarkSweepCompact');
      gcs = new GCProfiler();
      gcs.start();
      const reply: ProbeReply = {
        probe: 'sample',
        sample: {
          rss,
          heapUsed,
          heapTotal,
          external,
          liveHeap: full.at(-1)?.afterGC.heapStatistics.usedHeapSize ?? null,
          fullGcs: full.length,
          loopP99Ms: ms(perMinute.percentile(99)),
          loopMaxMs: ms(perMinute.max),
          runLoopP99Ms: ms(wholeRun.percentile(99)),
          runLoopMaxMs: ms(wholeRun.max),
        },
      };
      perMinute.reset();
      send(reply);
    } else if (m.probe === 'snapshot') {
      const reply: ProbeReply = { probe: 'snapshot', file: writeHeapSnapshot(m.file) };
      send(reply);
    }
  });
  // The channel must not keep the app alive: it exits on SIGTERM as it would without the probe.
  process.channel?.unref();
}
