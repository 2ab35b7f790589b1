/**
 * The outbox relay: moves pending outbox rows of the subgraph databases into the
 * ledger queue, oldest first, and only then marks them relayed. Each read of one
 * outbox (up to `batchSize` rows) becomes ONE job carrying its events in order
 * (queue.ts), so the queue's cost is paid per batch, not per event.
 *
 * Nothing is lost: a row stays pending until the queue has accepted its job, so with
 * Redis down the relay just tries again on its next tick. Nothing is doubled: a crash
 * between "added" and "marked" re-reads the rows — the same batch gets the same job id
 * (a no-op while Redis still knows it), and in any case the worker skips events the
 * ledger already holds.
 *
 * Redis may also lose what it was given (a restart without persistence, a failover).
 * So a relayed row is not done until the ledger holds its event: with the ledger
 * database at hand, the relay confirms relayed rows — those the ledger holds are pruned
 * from the outbox, those still missing after `confirmAfterMs` are queued again.
 *
 * Run it in its own process, with its own connections to the subgraph databases. On
 * SQLite a subgraph process's DataSource is a single connection, so a relay sharing it
 * could read rows of a transaction that then rolls back — and ledger an event that
 * never happened.
 */
import { In, type DataSource } from 'typeorm';
import { LedgerLeaf } from '../store/entities';
import type { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import type { EventKind, EventPayload } from '../core/events';
import { ledgerEventFromOutbox, redactFields, type LedgerEvent } from '../core/leaf';
import { ledgerJob, type LedgerJobData } from './queue';
import { traceContextOf } from './tracing';

export interface OutboxSource {
  /** For logs: which subgraph database. */
  readonly name: string;
  readonly db: DataSource;
}

export interface RelayLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface OutboxRelayOptions {
  /** Rows per read, and events per job. */
  batchSize?: number;
  /** Pause between ticks when running (start()). */
  intervalMs?: number;
  /** How long one add may wait for Redis before the tick gives up (rows stay pending). */
  addTimeoutMs?: number;
  log?: RelayLogger;
  now?: () => Date;
  /** The ledger database, to confirm relayed rows against (see above). Without it rows stay, marked relayed. */
  ledger?: DataSource;
  /** How long a relayed event may be missing from the ledger before it is queued again. */
  confirmAfterMs?: number;
}

export interface OutboxRow {
  id: string;
  kind: string;
  payload: string;
  created_at: string;
  traceparent?: string | null;
}

class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

export class OutboxRelay {
  private readonly sources: readonly OutboxSource[];
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private readonly addTimeoutMs: number;
  private readonly log: RelayLogger | undefined;
  private readonly now: () => Date;
  private readonly ledger: DataSource | undefined;
  private readonly confirmAfterMs: number;
  private ticking: Promise<number> = Promise.resolve(0);
  /** An add that timed out but may still complete: no new add until it settles. */
  private unsettledAdd: Promise<unknown> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** The last error of each failing source, so a lasting failure is logged once. */
  private readonly failing = new Map<string, string>();

  constructor(
    sources: readonly (OutboxSource | DataSource)[],
    private readonly queue: Queue<LedgerJobData>,
    opts: OutboxRelayOptions = {},
  ) {
    this.sources = sources.map((s, i) => ('db' in s ? s : { name: `source${i}`, db: s }));
    this.batchSize = opts.batchSize ?? 500;
    this.intervalMs = opts.intervalMs ?? 500;
    this.addTimeoutMs = opts.addTimeoutMs ?? 5_000;
    this.log = opts.log;
    this.now = opts.now ?? (() => new Date());
    this.ledger = opts.ledger;
    this.confirmAfterMs = opts.confirmAfterMs ?? 30_000;
  }

  /**
   * Relays until every source is drained or the queue is unavailable; returns how many
   * rows were relayed. Sources take turns a batch at a time, so one backlog does not
   * hold up the others. Concurrent calls run one after the other.
   */
  tick(): Promise<number> {
    const run = this.ticking.then(async () => {
      const relayed = await this.drain();
      if (this.ledger) await this.confirm(this.ledger);
      return relayed;
    });
    this.ticking = run.catch(() => 0);
    return run;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = () => {
      this.tick()
        .catch((err: unknown) => this.log?.error({ err }, 'outbox relay tick failed'))
        .finally(() => {
          if (this.running) this.timer = setTimeout(loop, this.intervalMs);
        });
    };
    loop();
  }

  /** Stops the loop and waits for a tick in progress. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
  }

  private async drain(): Promise<number> {
    if (this.unsettledAdd) return 0;
    let relayed = 0;
    let active = [...this.sources];
    while (active.length > 0) {
      const next: OutboxSource[] = [];
      for (const source of active) {
        let result: { relayed: number; more: boolean };
        try {
          result = await this.relayBatch(source);
        } catch (err) {
          if (err instanceof QueueUnavailableError) {
            this.log?.warn({ err: err.message }, 'ledger queue unavailable; outbox rows stay pending');
            return relayed;
          }
          // This source's database is unavailable: the others carry on. Reported once
          // per distinct failure, not every tick (a subgraph may simply not be up yet).
          const message = err instanceof Error ? err.message : String(err);
          if (this.failing.get(source.name) !== message) this.log?.error({ err, source: source.name }, 'cannot read the outbox');
          this.failing.set(source.name, message);
          continue;
        }
        this.failing.delete(source.name);
        relayed += result.relayed;
        if (result.more) next.push(source);
      }
      active = next;
    }
    return relayed;
  }

  /**
   * For each source, one batch of rows relayed more than confirmAfterMs ago: those whose
   * events the ledger holds are deleted, the others are queued again (one job; if Redis
   * still has them in another job, the worker skips whichever comes second) and get a
   * new grace period.
   */
  private async confirm(ledger: DataSource): Promise<void> {
    if (this.unsettledAdd) return;
    const cutoff = new Date(this.now().getTime() - this.confirmAfterMs).toISOString();
    for (const source of this.sources) {
      try {
        const rows = await sql<OutboxRow[]>(
          source.db,
          'SELECT id, kind, payload, created_at, traceparent FROM outbox WHERE relayed_at IS NOT NULL AND relayed_at < :cutoff ORDER BY relayed_at, id LIMIT :limit',
          { cutoff, limit: this.batchSize },
        );
        if (rows.length === 0) continue;
        const events = rows.map((row) => eventOf(source.name, row, this.now()));
        const held = new Set(
          (await ledger.getRepository(LedgerLeaf).find({ select: { eventId: true }, where: { eventId: In(events.map((e) => e.id)) } })).map((l) => l.eventId),
        );
        const done = rows.filter((_, i) => held.has(events[i]!.id)).map((r) => r.id);
        if (done.length) await sql(source.db, 'DELETE FROM outbox WHERE id IN (:...ids)', { ids: done });
        const lost = events.filter((e) => !held.has(e.id));
        if (lost.length) {
          this.log?.warn({ source: source.name, events: lost.length }, 'relayed events are not in the ledger yet; queued again');
          await this.addWithTimeout(lost, rows.filter((_, i) => !held.has(events[i]!.id)).map(traceContextOf));
          await sql(source.db, 'UPDATE outbox SET relayed_at = :now WHERE id IN (:...ids)', {
            now: this.now().toISOString(),
            ids: rows.filter((_, i) => !held.has(events[i]!.id)).map((r) => r.id),
          });
        }
      } catch (err) {
        if (err instanceof QueueUnavailableError) return;
        this.log?.error({ err, source: source.name }, 'cannot confirm relayed outbox rows');
      }
    }
  }

  private async relayBatch(source: OutboxSource): Promise<{ relayed: number; more: boolean }> {
    const rows = await sql<OutboxRow[]>(
      source.db,
      'SELECT id, kind, payload, created_at, traceparent FROM outbox WHERE relayed_at IS NULL ORDER BY created_at, id LIMIT :limit',
      { limit: this.batchSize },
    );
    if (rows.length === 0) return { relayed: 0, more: false };

    const events: LedgerEvent[] = [];
    for (const row of rows) {
      events.push(eventOf(source.name, row, this.now(), (err) =>
        this.log?.error({ err, source: source.name, eventId: row.id }, 'outbox row cannot become a ledger event; ledgered as outbox.rejected'),
      ));
    }

    await this.addWithTimeout(events, rows.map(traceContextOf));
    await sql(source.db, 'UPDATE outbox SET relayed_at = :now WHERE id IN (:...ids) AND relayed_at IS NULL', {
      now: this.now().toISOString(),
      ids: rows.map((r) => r.id),
    });
    return { relayed: events.length, more: rows.length === this.batchSize };
  }

  /** `traces[i]` is the trace context of `events[i]`'s row (tracing.ts). */
  private async addWithTimeout(events: readonly LedgerEvent[], traces: readonly (string | undefined)[] = []): Promise<void> {
    const job = ledgerJob(events, traces);
    const adding = this.queue.add(job.name, job.data, job.opts);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.addTimeoutMs);
    });
    try {
      const outcome = await Promise.race([adding.then(() => 'added' as const), timeout]);
      if (outcome === 'timeout') {
        this.unsettledAdd = adding.catch(() => undefined).finally(() => (this.unsettledAdd = null));
        throw new QueueUnavailableError(`queue add did not finish within ${this.addTimeoutMs} ms`);
      }
    } catch (err) {
      if (err instanceof QueueUnavailableError) throw err;
      throw new QueueUnavailableError(err instanceof Error ? err.message : String(err));
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Plain SQL on the `outbox` table with :named parameters, whatever the driver. Not the
 * query builder: the relay must not depend on the source DataSource's entity metadata
 * (a subgraph's maps `relayedAt`, the relay's own has none).
 */
function sql<T = unknown>(db: DataSource, text: string, params: Record<string, unknown>): Promise<T> {
  const [query, parameters] = db.driver.escapeQueryWithParameters(text, params);
  return db.query(query, parameters) as Promise<T>;
}

/**
 * The ledger event of an outbox row. A row that is not a valid event is neither dropped
 * nor left to block the rows behind it: its stand-in records that it existed,
 * committing to its exact content through payloadDigest.
 */
function eventOf(source: string, row: OutboxRow, now: Date, onRejected?: (err: unknown) => void): LedgerEvent {
  try {
    return ledgerEventFromOutbox({ id: row.id, kind: row.kind, payload: row.payload, createdAt: row.created_at });
  } catch (err) {
    onRejected?.(err);
    return rejectedRowEvent(source, row, now);
  }
}

/**
 * The stand-in for an outbox row that is not a valid event (a malformed id, kind or
 * instant): kind `outbox.rejected`, an id derived from the source and row id (so relaying
 * it twice is still one leaf), and the row's fields folded into payloadDigest.
 */
export function rejectedRowEvent(source: string, row: OutboxRow, now: Date): LedgerEvent {
  const id = `evt_rej_${createHash('sha256').update(`${source}\n${row.id}`).digest('hex').slice(0, 24)}`;
  const kind = 'outbox.rejected' satisfies EventKind;
  const payload: EventPayload<typeof kind> = { service: source, rowId: row.id, rowKind: row.kind, rowPayload: row.payload, rowCreatedAt: row.created_at };
  return redactFields(id, kind, { ...payload }, now.toISOString());
}
