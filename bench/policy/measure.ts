/**
 * @module bench/policy/measure
 * Timing for the policy benchmark: each engine's decision function runs over the fixed request list,
 * round-robin, in batches, until at least `minMs` of `performance.now()` time have passed; the clock is
 * read once per batch (batches sized from the warm-up to take ~5 ms). Runs of the engines are
 * interleaved (weft, casbin, weft, casbin, …) so a load change on the shared machine hits both alike;
 * the median of the runs is reported. Process CPU time (`process.cpuUsage`, all threads) is recorded
 * beside wall time: on a loaded machine it shows what the decisions cost when the core was ours.
 */

export interface Timing {
  /** Decisions per second (wall clock) of each run, in run order. */
  runs: number[];
  /** Median of `runs`. */
  decisionsPerSec: number;
  /** 1e6 / decisionsPerSec. */
  usPerDecision: number;
  /** Median over runs of process CPU µs per decision. */
  cpuUsPerDecision: number;
  /** Decisions made in all timed runs. */
  decisions: number;
}

export interface MeasureOptions {
  runs: number;
  minMs: number;
  warmupMs: number;
}

export interface Candidate {
  name: string;
  /** Decides request `i`; true = allow. Sync or async. */
  decide: (i: number) => boolean | Promise<boolean>;
  async: boolean;
}

/** Keeps results observable so the JIT cannot drop the calls. */
export let sink = 0;

interface Sample {
  ops: number;
  ms: number;
  cpuUs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function batchFor(usPer: number): number {
  return Math.max(1, Math.min(1 << 16, Math.round(5000 / Math.max(usPer, 0.001))));
}

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** A loop over the request list that keeps its position between runs. */
function createLoop(c: Candidate, n: number): (minMs: number, batch: number) => Promise<Sample> {
  let idx = 0;
  if (!c.async) {
    const fn = c.decide as (i: number) => boolean;
    return async (minMs, batch) => {
      let ops = 0;
      let allowed = 0;
      const cpu0 = cpuNow();
      const t0 = performance.now();
      let ms = 0;
      do {
        for (let k = 0; k < batch; k++) {
          if (fn(idx)) allowed++;
          if (++idx === n) idx = 0;
        }
        ops += batch;
        ms = performance.now() - t0;
      } while (ms < minMs);
      const cpuUs = cpuNow() - cpu0;
      sink += allowed;
      return { ops, ms, cpuUs };
    };
  }
  const fn = c.decide as (i: number) => Promise<boolean>;
  return async (minMs, batch) => {
    let ops = 0;
    let allowed = 0;
    const cpu0 = cpuNow();
    const t0 = performance.now();
    let ms = 0;
    do {
      for (let k = 0; k < batch; k++) {
        if (await fn(idx)) allowed++;
        if (++idx === n) idx = 0;
      }
      ops += batch;
      ms = performance.now() - t0;
    } while (ms < minMs);
    const cpuUs = cpuNow() - cpu0;
    sink += allowed;
    return { ops, ms, cpuUs };
  };
}

/** Warms every candidate up, then runs them interleaved `o.runs` times. */
export async function measureInterleaved(candidates: Candidate[], n: number, o: MeasureOptions): Promise<Map<string, Timing>> {
  const loops = candidates.map((c) => createLoop(c, n));
  const batches: number[] = [];
  for (const loop of loops) {
    const warm = await loop(o.warmupMs, 16);
    batches.push(batchFor((warm.ms * 1000) / warm.ops));
  }
  const samples: Sample[][] = candidates.map(() => []);
  for (let r = 0; r < o.runs; r++) {
    for (let i = 0; i < loops.length; i++) samples[i]!.push(await loops[i]!(o.minMs, batches[i]!));
  }
  const out = new Map<string, Timing>();
  candidates.forEach((c, i) => {
    const s = samples[i]!;
    const runs = s.map((x) => (x.ops * 1000) / x.ms);
    const dps = median(runs);
    out.set(c.name, {
      runs,
      decisionsPerSec: dps,
      usPerDecision: 1e6 / dps,
      cpuUsPerDecision: median(s.map((x) => x.cpuUs / x.ops)),
      decisions: s.reduce((a, x) => a + x.ops, 0),
    });
  });
  return out;
}
