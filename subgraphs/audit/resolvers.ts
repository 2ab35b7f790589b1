import type { ResolverMap } from '../../common/resolver-map';
import { badInput, userError } from '../../common/errors';
import { parsePage, toConnection, type CursorValue, type PageArgs } from '../../common/pagination';
import { DateTime } from '../../common/scalars';
import { CATEGORIES, PURPOSES } from '../../consent/vocabulary';
import type { SubgraphContext } from '../kit/context';
import type { BreakGlass } from '../../consent/entities';
import { accessesUnder, byId, review, reviewQueue, startedEvent } from './break-glass';
import { disclosures, disclosuresCsv, type Recipient } from './disclosures';
import type { EventKind } from '../../ledger/core/events';
import { EVENT_ID } from '../../ledger/core/leaf';
import { countLeaves, findLeaves, type LeafFilter, type StoredLeaf } from '../../ledger/store/read-model';
import { checkpointFor, inclusionOf, ledgerOf } from './ledger-reader';

type Ctx = SubgraphContext;

interface Period {
  from?: Date | null;
  to?: Date | null;
}

function checkPeriod({ from, to }: Period): void {
  if (from && to && to <= from) throw badInput('`to` must be after `from`', 'to');
}

/** A leaf index from a cursor, or undefined. */
function leafIndexOf(cursor: CursorValue[] | null, argument: 'after' | 'before'): number | undefined {
  if (!cursor) return undefined;
  const index = Number(cursor[0]);
  if (!Number.isSafeInteger(index) || index < 0) throw badInput('Malformed cursor', argument);
  return index;
}

/**
 * Newest first, a cursor being a leaf index: the page after a cursor lies below its index,
 * the page before it above; a `last` page is fetched oldest first and flipped.
 */
async function page(ctx: Ctx, filter: LeafFilter, args: PageArgs) {
  const p = parsePage(args, 1);
  const below = leafIndexOf(p.after, 'after');
  const above = leafIndexOf(p.before, 'before');
  const leaves = await findLeaves(ledgerOf(ctx), filter, p.limit + 1, below, { aboveIndex: above, oldestFirst: p.backward });
  // Counted only when asked for (graphql-js calls a function-valued field): a COUNT over the same search.
  return { ...toConnection(leaves, p, (leaf) => [leaf.index]), totalCount: (): Promise<number | null> => countLeaves(ledgerOf(ctx), filter) };
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const oneOf = <T extends string>(v: unknown, allowed: readonly T[]): T | null => (typeof v === 'string' && (allowed as readonly string[]).includes(v) ? (v as T) : null);

function actorOf(event: Record<string, unknown>): Recipient | null {
  const userId = text(event.subject);
  return userId ? { userId, role: text(event.role), institutionId: text(event.institutionId), practitionerId: text(event.practitionerId) } : null;
}

function requireCompliance(ctx: Ctx, what: string): void {
  if (ctx.identity.role !== 'compliance') throw userError('FORBIDDEN', `${what} is for the compliance role`);
  if (ctx.identity.purpose !== 'OPERATIONS') throw userError('FORBIDDEN', `${what} needs X-Purpose-Of-Use: OPERATIONS`);
}

const DECISIONS = { PERMIT: 'permit', DENY: 'deny' } as const;

export const resolvers: ResolverMap<Ctx> = {
  DateTime,

  Query: {
    async auditTrail(
      _: unknown,
      args: PageArgs & Period & { patientId?: string | null; actor?: string | null; practitionerId?: string | null; category?: string | null; decision?: 'PERMIT' | 'DENY' | null; kind?: string | null },
      ctx: Ctx,
    ) {
      requireCompliance(ctx, 'The audit trail');
      checkPeriod(args);
      if (args.kind && !/^[a-z][a-z0-9._-]{0,63}$/.test(args.kind)) throw badInput('kind is an event kind such as access.decision', 'kind');
      const connection = await page(
        ctx,
        {
          patientId: args.patientId,
          subject: args.actor,
          practitionerId: args.practitionerId,
          category: args.category,
          decision: args.decision ? DECISIONS[args.decision] : null,
          kind: args.kind,
          from: args.from,
          to: args.to,
        },
        args,
      );
      // Reading a patient's trail is itself an access (AUDIT, recorded like any other):
      // should a policy ever deny it, the patient's events are left out of the page.
      const patients = [...new Set(connection.nodes.map((l) => text(l.event.patientId)).filter((p): p is string => p !== null))];
      const allowed = new Set(await ctx.access.allowed(patients, 'AUDIT'));
      const visible = (leaf: StoredLeaf) => {
        const p = text(leaf.event.patientId);
        return p === null || allowed.has(p);
      };
      // The total counts no withheld event: exact for one patient (0 if AUDIT of them is
      // denied); for the whole trail null, since any patient's events might be withheld.
      const patientId = args.patientId;
      const totalCount = patientId
        ? async () => ((await ctx.access.allowed([patientId], 'AUDIT')).length ? connection.totalCount() : 0)
        : () => null;
      return { ...connection, edges: connection.edges.filter((e) => visible(e.node)), nodes: connection.nodes.filter(visible), totalCount };
    },

    /**
     * One event by id, to whoever could find it by searching: the compliance role with
     * purpose OPERATIONS (as auditTrail), or a caller who may read the AUDIT data of the
     * event's patient — the patient themself, for the access decisions about them (as
     * Patient.accessLog with includeOwn). Unknown and not shown are the same null. Asking
     * for one patient's event is an AUDIT access to that patient, recorded like any other.
     */
    async auditEvent(_: unknown, args: { id: string }, ctx: Ctx) {
      if (!EVENT_ID.test(args.id)) return null;
      const [leaf] = await findLeaves(ledgerOf(ctx), { eventId: args.id }, 1);
      if (!leaf) return null;
      const patientId = text(leaf.event.patientId);
      const operations = ctx.identity.role === 'compliance' && ctx.identity.purpose === 'OPERATIONS';
      if (!operations && (leaf.event.kind !== ('access.decision' satisfies EventKind) || patientId === null)) return null;
      if (patientId !== null && !(await ctx.access.allowed([patientId], 'AUDIT')).length) return null;
      return leaf;
    },

    async disclosures(_: unknown, args: { patientId: string; from: Date; to?: Date | null }, ctx: Ctx) {
      const to = args.to ?? new Date();
      checkPeriod({ from: args.from, to });
      const lines = await disclosures(ledgerOf(ctx), args.patientId, args.from, to);
      return { patientId: args.patientId, from: args.from, to, lines, csv: disclosuresCsv(lines) };
    },

    ledgerCheckpoint: (_: unknown, __: unknown, ctx: Ctx) => checkpointFor(ctx),

    // Compliance, or the clinician who opened it (break-glass.ts byId); NOT_FOUND to anyone else.
    breakGlassAccess: (_: unknown, args: { id: string }, ctx: Ctx) => byId(ctx, args.id),

    breakGlassReviews(_: unknown, args: { pendingOnly?: boolean | null }, ctx: Ctx) {
      requireCompliance(ctx, 'The break-the-glass review queue');
      return reviewQueue(ctx, args.pendingOnly !== false);
    },
  },

  Mutation: {
    reviewBreakGlass(_: unknown, args: { id: string; note: string }, ctx: Ctx) {
      requireCompliance(ctx, 'Reviewing a break-the-glass access');
      return review(ctx, args.id, args.note);
    },
  },

  BreakGlassAccess: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => byId(ctx, ref.id),
    async openedBy(row: BreakGlass, _: unknown, ctx: Ctx) {
      const started = await startedEvent(ctx, row);
      return (started && actorOf(started.event)) ?? { userId: row.userId, role: null, institutionId: null, practitionerId: null };
    },
    accesses(row: BreakGlass, _: unknown, ctx: Ctx) {
      requireCompliance(ctx, 'The accesses under a break-the-glass');
      return accessesUnder(ctx, row);
    },
  },

  Patient: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    accessLog(patient: { id: string }, args: PageArgs & Period & { includeOwn?: boolean | null }, ctx: Ctx) {
      checkPeriod(args);
      return page(
        ctx,
        {
          patientId: patient.id,
          kind: 'access.decision' satisfies EventKind,
          notSubject: args.includeOwn ? null : ctx.identity.subject,
          from: args.from,
          to: args.to,
        },
        args,
      );
    },
  },

  AuditEvent: {
    id: (leaf: StoredLeaf) => leaf.event.id,
    kind: (leaf: StoredLeaf) => leaf.event.kind,
    at: (leaf: StoredLeaf) => new Date(String(leaf.event.at)),
    patientId: (leaf: StoredLeaf) => text(leaf.event.patientId),
    actor: (leaf: StoredLeaf) => actorOf(leaf.event),
    category: (leaf: StoredLeaf) => oneOf(leaf.event.category, CATEGORIES),
    action: (leaf: StoredLeaf) => oneOf(leaf.event.action, ['read', 'write'] as const)?.toUpperCase() ?? null,
    purpose: (leaf: StoredLeaf) => oneOf(leaf.event.purpose, PURPOSES),
    decision: (leaf: StoredLeaf) => oneOf(leaf.event.decision, ['permit', 'deny'] as const)?.toUpperCase() ?? null,
    decidedBy: (leaf: StoredLeaf) => text(leaf.event.decidedBy),
    service: (leaf: StoredLeaf) => text(leaf.event.service),
    requestId: (leaf: StoredLeaf) => text(leaf.event.requestId),
    ledger: (leaf: StoredLeaf) => leaf,
  },

  AuditActor: {
    practitioner: (actor: Recipient) => (actor.practitionerId ? { __typename: 'Practitioner', id: actor.practitionerId } : null),
    institution: (actor: Recipient) => (actor.institutionId ? { __typename: 'Institution', id: actor.institutionId } : null),
  },

  LedgerPosition: {
    inclusion: (leaf: StoredLeaf, _: unknown, ctx: Ctx) => inclusionOf(ctx, leaf.index),
  },
};

