/**
 * The outbox: ledger events written in the subgraph's own database, in the same
 * transaction as the change they describe (or, for access decisions, at the end of the
 * request). The ledger's relay moves them on; until then they wait here, durable.
 *
 * A row also records the trace context (`traceparent`) of the request that wrote it, when
 * tracing is on: beside the payload, never in it, so it goes to the queue job but never
 * into the public leaf.
 */
import { Column, Entity, Index, PrimaryColumn, type EntityManager, type DataSource } from 'typeorm';
import { isoInstant } from '../../common/database';
import { newId } from '../../common/ids';
import { currentTraceparent } from '../../common/tracing';
import type { ActorFields, OutboxEventInput } from '../core/events';

@Entity({ name: 'outbox' })
@Index('ix_outbox_pending', ['relayedAt', 'createdAt'])
export class OutboxEvent {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  /** One of the kinds declared in ledger/core/events.ts. */
  @Column({ type: 'varchar', length: 64 })
  kind!: string;

  /** JSON; opaque ids only — never names or clinical values. */
  @Column({ type: 'text' })
  payload!: string;

  @Column({ name: 'created_at', type: 'varchar', length: 24, transformer: isoInstant })
  createdAt!: Date;

  @Column({ name: 'relayed_at', type: 'varchar', length: 24, transformer: isoInstant, nullable: true })
  relayedAt!: Date | null;

  /** The writing request's W3C traceparent (migrations/1796169600000-outbox-traceparent.ts); NULL when tracing is off. */
  @Column({ type: 'varchar', length: 55, nullable: true })
  traceparent!: string | null;
}

/**
 * An event to write, with the trace context it was written in when that is not the
 * active one (group-commit.ts writes later, for many requests): null for none. Left out,
 * the active span's is taken.
 */
export type OutboxWrite<E = OutboxEventInput> = E & { traceparent?: string | null };

/** Rows per INSERT statement (bind-parameter limits). */
export const OUTBOX_INSERT_ROWS = 500;

/**
 * Writes events to the outbox, in the caller's transaction when given one. An event
 * happened at `now` (the row's created_at, which the ledger event takes as its `at`)
 * unless its payload says otherwise, as access decisions do with the request's instant.
 */
export function appendToOutbox(db: DataSource | EntityManager, events: readonly OutboxWrite[], now = new Date()): Promise<void> {
  return appendOutboxRows(db, events, now);
}

/**
 * The rows themselves, of any kind and payload: what the relay must cope with from a
 * writer that predates ledger/core/events.ts or ignores it. Product code writes through
 * appendToOutbox, whose kinds and payloads are the declared ones.
 */
export async function appendOutboxRows(db: DataSource | EntityManager, events: readonly OutboxWrite<{ kind: string; payload: object }>[], now = new Date()): Promise<void> {
  if (!events.length) return;
  const createdAt = now.toISOString();
  const active = currentTraceparent();
  const rows = events.map((e) => [newId('evt'), e.kind, JSON.stringify(e.payload), (e.traceparent === undefined ? active : e.traceparent) ?? null] as const);
  // Plain SQL: every request writes its access decisions here, and TypeORM's insert
  // builder cost several times the statement itself (see common/database.ts sqlQuery).
  const connection = 'connection' in db ? db.connection : db;
  for (let i = 0; i < rows.length; i += OUTBOX_INSERT_ROWS) {
    const chunk = rows.slice(i, i + OUTBOX_INSERT_ROWS);
    const params: Record<string, unknown> = { createdAt };
    const values = chunk.map(([id, kind, payload, traceparent], j) => {
      params[`i${j}`] = id;
      params[`k${j}`] = kind;
      params[`p${j}`] = payload;
      if (traceparent === null) return `(:i${j}, :k${j}, :p${j}, :createdAt, NULL, NULL)`;
      params[`t${j}`] = traceparent;
      return `(:i${j}, :k${j}, :p${j}, :createdAt, NULL, :t${j})`;
    });
    const [sql, bound] = connection.driver.escapeQueryWithParameters(`INSERT INTO outbox (id, kind, payload, created_at, relayed_at, traceparent) VALUES ${values.join(', ')}`, params);
    await db.query(sql, bound);
  }
}

/** Who acted, as ledger fields: opaque ids and vocabulary words only. */
export interface EventActor {
  subject: string;
  role?: string;
  requestId?: string;
  purpose?: string;
  institutionId?: string | null;
  practitionerId?: string | null;
}

/** The actor's fields of an event, without empty ones (a null id would only be folded into the digest). */
export function actorFields(actor: EventActor): ActorFields {
  const fields: ActorFields = { subject: actor.subject };
  for (const key of ['role', 'requestId', 'purpose', 'institutionId', 'practitionerId'] as const) {
    const value = actor[key];
    if (typeof value === 'string' && value) fields[key] = value;
  }
  return fields;
}
