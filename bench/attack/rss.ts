/**
 * Resident memory of a hub's processes, sampled from /proc: the `custodian start`
 * process's children (gateway, subgraphs, ledger), each named by its script. Samples are
 * tagged with the phase running, so each process's peak is known per phase.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface ProcessInfo {
  pid: number;
  name: string;
}

/** The services `custodian start` (pid) runs, named after their scripts (dist/subgraphs/labs/main.js → labs). */
export function hubProcesses(startPid: number): ProcessInfo[] {
  const children = fs.readFileSync(`/proc/${startPid}/task/${startPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return children.map((pid) => {
    const script = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[1] ?? '';
    return { pid, name: path.basename(path.dirname(script)) || String(pid) };
  });
}

/** Resident set size in MB, or null when the process is gone. */
export function rssMb(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

export class RssSampler {
  private readonly peaks = new Map<string, Map<string, number>>();
  private readonly timer: NodeJS.Timeout;
  phase = 'idle';

  constructor(private readonly processes: ProcessInfo[], everyMs = 100) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): void {
    for (const p of this.processes) {
      const mb = rssMb(p.pid);
      if (mb === null) continue;
      const byPhase = this.peaks.get(this.phase) ?? new Map<string, number>();
      byPhase.set(p.name, Math.max(byPhase.get(p.name) ?? 0, mb));
      this.peaks.set(this.phase, byPhase);
    }
  }

  /** Peak MB per process in a phase. */
  peak(phase: string): Record<string, number> {
    return Object.fromEntries(this.peaks.get(phase) ?? []);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
