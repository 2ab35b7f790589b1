/**
 * The benchmark measures what the consent gate costs by timing a second hub without it.
 * No setting turns the gate off: only code loaded into the process can, through this
 * flag, and the only code that sets it is `bench/ungated-preload.ts`, which is not part
 * of the production build (tsconfig.build.json) and is refused when NODE_ENV=production.
 */
const FLAG = Symbol.for('custodian.benchmark.ungated');

export function ungatedForBenchmark(): boolean {
  return (globalThis as Record<symbol, unknown>)[FLAG] === true;
}

/** Called by the benchmark's preload only. */
export function markUngatedForBenchmark(): void {
  (globalThis as Record<symbol, unknown>)[FLAG] = true;
}
