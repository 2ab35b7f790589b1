/**
 * The break-the-glass review queue. A clinician's emergency access (patients subgraph,
 * `breakTheGlass`) is a row in the consent database; compliance reviews it here, seeing
 * the justification and every access that was decided by it, from the ledger.
 */
import { IsNull } from 'typeorm';
import { serialized } from '../../common/database';
import { userError } from '../../common/errors';
import { actorFields, appendToOutbox } from '../../ledger/pipeline/outbox';
import { BreakGlass } from '../../consent/entities';
import type { SubgraphContext } from '../kit/context';
import type { EventKind } from '../../ledger/core/events';
import { findLeaves, type StoredLeaf } from '../../ledger/store/read-model';
import { ledgerOf } from './ledger-reader';

/** The queue shows this many, newest first. */
const QUEUE_SIZE = 500;
/** Accesses listed under one break-the-glass (at most 240 minutes of one clinician). */
const MAX_ACCESSES = 1_000;

const breakGlassNotFound = (id: string) => userError('NOT_FOUND', `No break-the-glass access ${JSON.stringify(id)}`, { kind: 'BreakGlassAccess', id });

const repo = (ctx: SubgraphContext) => ctx.consent.engine.db.getRepository(BreakGlass);

export function reviewQueue(ctx: SubgraphContext, pendingOnly: boolean): Promise<BreakGlass[]> {
  return repo(ctx).find({ where: pendingOnly ? { reviewedAt: IsNull() } : {}, order: { startedAt: 'DESC', id: 'ASC' }, take: QUEUE_SIZE });
}

export async function review(ctx: SubgraphContext, id: string, note: string): Promise<BreakGlass> {
  const text = note.trim();
  if (!text) throw userError('BAD_USER_INPUT', 'A review needs a note', { field: 'note' });
  if (text.length > 2000) throw userError('BAD_USER_INPUT', 'A review note is at most 2000 characters', { field: 'note' });
  const db = ctx.consent.engine.db;
  const now = new Date();
  return serialized(db, () =>
    db.transaction(async (tx) => {
      const row = await tx.getRepository(BreakGlass).findOneBy({ id });
      if (!row) throw breakGlassNotFound(id);
      if (row.reviewedAt) throw userError('CONFLICT', `This access was already reviewed on ${row.reviewedAt.toISOString()}`);
      Object.assign(row, { reviewedAt: now, reviewedBy: ctx.identity.subject, reviewNote: text });
      await tx.getRepository(BreakGlass).update({ id, reviewedAt: IsNull() }, { reviewedAt: now, reviewedBy: row.reviewedBy, reviewNote: text });
      // The note is free text: the ledger commits to it through payloadDigest only.
      await appendToOutbox(tx, [{ kind: 'breakglass.reviewed', payload: { ...actorFields(ctx.identity), patientId: row.patientId, breakGlassId: row.id, note: text } }], now);
      return row;
    }),
  );
}

/**
 * A break-the-glass access by id: for compliance, and for the clinician who opened it
 * (with the read scope). To anyone else an existing one answers exactly as an unknown id.
 */
export async function byId(ctx: SubgraphContext, id: string): Promise<BreakGlass> {
  const row = await repo(ctx).findOneBy({ id });
  const mayRead = ctx.identity.scopes.includes('read') && (ctx.identity.role === 'compliance' || ctx.identity.subject === row?.userId);
  if (!row || !mayRead) throw breakGlassNotFound(id);
  return row;
}

/** The accesses this break-the-glass decided, from the ledger, newest first. */
export async function accessesUnder(ctx: SubgraphContext, row: BreakGlass): Promise<StoredLeaf[]> {
  const decidedBy = `break-glass:${row.id}`;
  const leaves = await findLeaves(
    ledgerOf(ctx),
    { patientId: row.patientId, subject: row.userId, kind: 'access.decision' satisfies EventKind, from: row.startedAt, to: new Date(row.expiresAt.getTime() + 1) },
    MAX_ACCESSES,
  );
  return leaves.filter((l) => l.event.decidedBy === decidedBy);
}

/**
 * The `breakglass.started` event of this access: it carries the opener's role,
 * institution and practitioner record (the row keeps only the user id). Null until the
 * relay has appended it.
 */
export async function startedEvent(ctx: SubgraphContext, row: BreakGlass): Promise<StoredLeaf | null> {
  // A clinician opens few accesses per patient: the newest 50 of theirs always hold it.
  const leaves = await findLeaves(ledgerOf(ctx), { patientId: row.patientId, subject: row.userId, kind: 'breakglass.started' satisfies EventKind }, 50);
  return leaves.find((l) => l.event.breakGlassId === row.id) ?? null;
}
