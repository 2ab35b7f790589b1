/**
 * Group commit for outbox events that are not part of a domain transaction (access
 * decisions). Under load many requests finish within the same few milliseconds; each
 * would pay a commit (an fsync on SQLite) of its own. Instead they join the batch being
 * gathered, one transaction writes it, and every request waits for that commit before
 * its response leaves — durability per request is unchanged, commits are shared.
 */
import type { DataSource } from 'typeorm';
import { serialized } from '../../common/database';
import { currentTraceparent, tracingOn } from '../../common/tracing';
import type { OutboxEventInput } from '../../ledger/core/events';
import { appendToOutbox, OUTBOX_INSERT_ROWS, type OutboxWrite } from '../../ledger/pipeline/outbox';

type Event = OutboxWrite<OutboxEventInput>;

export class GroupCommit {
  private batch: Event[] = [];
  private waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: DataSource,
    /** How long a batch gathers before it is written. */
    private readonly windowMs = 2,
  ) {}

  write(events: OutboxEventInput[]): Promise<void> {
    if (!events.length) return Promise.resolve();
    // The batch is written later, for many requests at once: each row keeps the trace
    // context of the request that wrote it, taken now (none: null, not the batch's).
    if (tracingOn()) {
      const traceparent = currentTraceparent() ?? null;
      this.batch.push(...events.map((e) => ({ ...e, traceparent })));
    } else {
      this.batch.push(...events);
    }
    const done = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(() => this.flush(), this.windowMs);
    }
    return done;
  }

  private flush(): void {
    const events = this.batch;
    const waiting = this.waiting;
    this.batch = [];
    this.waiting = [];
    this.scheduled = false;
    // One commit at a time, in order.
    this.inFlight = this.inFlight
      // One INSERT is atomic by itself; only a batch that needs several takes a transaction.
      .then(() =>
        serialized(this.db, () =>
          events.length <= OUTBOX_INSERT_ROWS ? appendToOutbox(this.db, events) : this.db.transaction((tx) => appendToOutbox(tx, events)),
        ),
      )
      .then(
        () => waiting.forEach((w) => w.resolve()),
        (err) => waiting.forEach((w) => w.reject(err)),
      );
  }
}
