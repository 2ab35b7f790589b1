/**
 * The ledger's state as gauges, measured when /metrics is scraped (not on a timer): the
 * outbox backlog per source, the queue's depth, the tree's size and the latest
 * checkpoint's size and age. Registered only by the process that can measure them (the
 * ledger process, ledger/main.ts), so no other process exposes them empty.
 *
 * One scrape reads everything once: every gauge's collect() shares one observation,
 * kept for a second. A part that could not be read (a source database down) leaves its
 * series out of that scrape instead of reporting a number nobody measured.
 */
import { Gauge } from 'prom-client';

export interface LedgerObservation {
  /** Per source database: outbox rows not yet relayed, and the oldest one's age. `null`: the source did not answer. */
  outbox: { source: string; backlog: number; oldestSeconds: number }[];
  /** BullMQ jobs by state; `null`: Redis did not answer. */
  queue: Record<'waiting' | 'active' | 'delayed' | 'prioritized', number> | null;
  /** Leaves in the tree; `null`: the ledger database did not answer. */
  treeSize: number | null;
  /** The latest published checkpoint; `null` when there is none yet (or the database did not answer). */
  checkpoint: { size: number; ageSeconds: number } | null;
}

export interface LedgerGauges {
  /** Stops measuring (the gauges stay registered, empty). */
  close(): void;
}

export function ledgerGauges(observe: () => Promise<LedgerObservation>, cacheMs = 1000): LedgerGauges {
  let last: { at: number; value: Promise<LedgerObservation> } | undefined;
  let closed = false;
  const observation = () => {
    if (!last || Date.now() - last.at > cacheMs) last = { at: Date.now(), value: observe() };
    return last.value;
  };
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>, o: LedgerObservation) => void) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      async collect() {
        this.reset();
        if (closed) return;
        fill(this, await observation());
      },
    });

  gauge('custodian_ledger_outbox_backlog', 'Outbox rows not yet relayed to the ledger queue, per source database', ['source'], (g, o) => {
    for (const s of o.outbox) g.set({ source: s.source }, s.backlog);
  });
  gauge('custodian_ledger_outbox_oldest_seconds', 'Age of the oldest outbox row not yet relayed, per source database (0 when none waits)', ['source'], (g, o) => {
    for (const s of o.outbox) g.set({ source: s.source }, s.oldestSeconds);
  });
  gauge('custodian_ledger_queue_depth', 'BullMQ jobs in the ledger queue, by state (waiting, active, delayed, prioritized); their sum is the queue depth', ['state'], (g, o) => {
    if (o.queue) for (const [state, n] of Object.entries(o.queue)) g.set({ state: state as never }, n);
  });
  gauge('custodian_ledger_tree_size', 'Leaves in the ledger\'s Merkle tree', [], (g, o) => {
    if (o.treeSize !== null) g.set(o.treeSize);
  });
  gauge('custodian_ledger_checkpoint_size', 'Tree size of the latest published checkpoint', [], (g, o) => {
    if (o.checkpoint) g.set(o.checkpoint.size);
  });
  gauge('custodian_ledger_checkpoint_age_seconds', 'Seconds since the latest checkpoint was published (absent before the first)', [], (g, o) => {
    if (o.checkpoint) g.set(o.checkpoint.ageSeconds);
  });
  return {
    close() {
      closed = true;
    },
  };
}
