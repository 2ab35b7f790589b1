/**
 * `node --require dist/bench/ungated-preload.js`: loaded into each process of the
 * benchmark's ungated hub, whose subgraphs then serve without the consent gate, so the
 * gate's cost can be timed beside a gated hub. Benchmark code only (bench/ungated.ts;
 * subgraphs/kit/ungated.ts says why no setting can do this).
 */
import { markUngatedForBenchmark } from '../subgraphs/kit/ungated';

if (process.env.NODE_ENV === 'production') throw new Error('the ungated benchmark preload is refused in production');
markUngatedForBenchmark();
