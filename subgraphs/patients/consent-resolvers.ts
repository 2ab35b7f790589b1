/**
 * Consents in GraphQL: grant, revoke, list, explain, and break-the-glass. The consent
 * store is shared with every subgraph's gate; after each change the new consent version
 * is announced to every process.
 */

import { serialized } from '../../common/database';
import { actorFields, appendToOutbox } from '../../ledger/pipeline/outbox';
import { userError } from '../../common/errors';
import { newId } from '../../common/ids';
import { PURPOSES, type Purpose } from '../../common/signed-identity';
import { ConsentInputError, consentsOf, grantConsent, revokeConsent, bumpVersion, type GrantInput } from '../../consent/consents';
import { BreakGlass, Consent } from '../../consent/entities';
import { toFhirConsent } from '../../consent/fhir';
import { basePolicy } from '../../consent/base-policies';
import { principalString } from '../../consent/principals';
import { CATEGORIES, type Action, type Category } from '../../consent/vocabulary';
import type { SubgraphContext } from '../kit/context';
import { Institution, Patient, Practitioner } from './entities';
import { ProjectMember } from '../../consent/entities';
import { reachable, unreachablePatient } from './reach';

type Ctx = SubgraphContext;

export const MAX_BREAK_GLASS_MINUTES = 240;
/** A justification says what the emergency is; the maximum is also common/input-limits.ts's. */
export const JUSTIFICATION_LENGTH = { min: 20, max: 2000 };
/** Patient ids as the hub makes them; breakTheGlass accepts only this shape (it does not look the patient up). */
const PATIENT_ID = /^[A-Za-z0-9_-]{1,40}$/;

const lower = <T extends string>(values: string[] | null | undefined) => (values ?? []).map((v) => v.toLowerCase() as T);

interface GrantArgs {
  patientId: string;
  grantee: { kind: 'PRACTITIONER' | 'ROLE' | 'PROJECT'; id: string };
  categories: Category[];
  actions?: ('READ' | 'WRITE')[] | null;
  purposes: Purpose[];
  effect?: 'PERMIT' | 'DENY' | null;
  validFrom?: Date | null;
  validUntil?: Date | null;
  identified?: boolean | null;
  exceptions?: { categories?: Category[] | null; loincClass?: string | null; dataFrom?: Date | null; dataUntil?: Date | null }[] | null;
}

/** The grantee must exist where the hub knows it: practitioners and institutions here, projects by their members. */
async function checkGrantee(ctx: Ctx, grantee: GrantArgs['grantee']): Promise<void> {
  if (grantee.kind === 'PRACTITIONER' && !(await ctx.db.getRepository(Practitioner).existsBy({ id: grantee.id }))) {
    throw userError('BAD_USER_INPUT', `No practitioner ${grantee.id}`, { field: 'grantee' });
  }
  if (grantee.kind === 'ROLE') {
    const institution = grantee.id.split('@')[1] ?? '';
    if (!(await ctx.db.getRepository(Institution).existsBy({ id: institution }))) {
      throw userError('BAD_USER_INPUT', `No institution ${JSON.stringify(institution)} in ${grantee.id}`, { field: 'grantee' });
    }
  }
  if (grantee.kind === 'PROJECT' && !(await ctx.consent.engine.db.getRepository(ProjectMember).existsBy({ projectId: grantee.id }))) {
    throw userError('BAD_USER_INPUT', `No research project ${grantee.id}`, { field: 'grantee' });
  }
}

async function view(ctx: Ctx, consent: Consent) {
  const exceptions = await ctx.consent.engine.db.getRepository(Consent).findBy({ parentId: consent.id });
  return consentView(consent, exceptions);
}

function consentView(c: Consent, exceptions: Consent[]) {
  const view = {
    ...c,
    grantee: { kind: c.granteeKind.toUpperCase(), id: c.granteeId },
    categories: c.categories.split('|'),
    actions: c.actions.split('|').map((a) => a.toUpperCase()),
    purposes: c.purposes.split('|'),
    effect: c.effect.toUpperCase(),
    status: c.status.toUpperCase(),
    exceptions: exceptions.map((e) => ({ categories: e.categories.split('|'), loincClass: e.dataLoincClass, dataFrom: e.dataFrom, dataUntil: e.dataUntil })),
  };
  // The same mapping as the FHIR API's Consent resource (consent/fhir.ts), from the same view.
  return { ...view, fhir: JSON.stringify(toFhirConsent(view)) };
}

function explainReason(allowed: boolean, decidedBy: string, category: string, purpose: string): string {
  if (decidedBy === 'default-deny') return `No consent or policy permits ${category} for ${purpose}: access is denied by default.`;
  const [kind, name] = decidedBy.split(':');
  if (kind === 'base') return `Permitted by base policy ${name}: ${basePolicy(decidedBy)?.explanation ?? name}.`;
  if (kind === 'break-glass') return `Permitted by break-the-glass access ${name}, for EMERGENCY, until it expires; it is reviewed by compliance.`;
  if (kind === 'scope') return `This token lacks the "${name}" scope.`;
  return allowed
    ? `Permitted by the patient's consent ${name} for ${category} and ${purpose}.`
    : `Denied by the patient's consent ${name}; a denial overrides every permission.`;
}

export const consentResolvers = {
  Query: {
    async explainAccess(
      _: unknown,
      args: { patientId: string; category: Category; purpose?: Purpose | null; action?: 'READ' | 'WRITE' | null },
      ctx: Ctx,
    ) {
      const purpose = args.purpose ?? ctx.identity.purpose;
      if (!PURPOSES.includes(purpose)) throw userError('BAD_USER_INPUT', `Unknown purpose ${purpose}`);
      // Only for a patient this request can reach with some category (compliance: the
      // audit trail of anyone): explaining a denial to anyone else would tell an unknown
      // id from a hidden one, and name the consent that hides it.
      if (!(await reachable(ctx, args.patientId, CATEGORIES))) throw unreachablePatient(ctx);
      const action = (args.action ?? 'READ').toLowerCase() as Action;
      const engine = ctx.consent.engine;
      const policy = (await engine.policies([args.patientId])).get(args.patientId)!;
      const decision = engine.decide(policy, {
        principals: principalString(await ctx.access.principalSet()),
        patientId: args.patientId,
        category: args.category,
        action,
        purpose,
        at: new Date(),
      });
      const consentId = decision.decidedBy.startsWith('consent:') ? decision.decidedBy.slice(8) : null;
      const consent = consentId ? await engine.db.getRepository(Consent).findOneBy({ id: consentId }) : null;
      return {
        allowed: decision.allowed,
        decidedBy: decision.decidedBy,
        reason: explainReason(decision.allowed, decision.decidedBy, args.category, purpose),
        consent: consent ? await view(ctx, consent) : null,
        consentVersion: decision.version,
        exclusions: decision.exclusions.map((e) => ({ categories: [args.category], loincClass: e.loincClass, dataFrom: e.from, dataUntil: e.until })),
      };
    },
  },

  Mutation: {
    async grantConsent(_: unknown, { input }: { input: GrantArgs }, ctx: Ctx) {
      if (!(await ctx.db.getRepository(Patient).existsBy({ id: input.patientId }))) {
        throw userError('NOT_FOUND', `Patient ${JSON.stringify(input.patientId)} does not exist`);
      }
      await checkGrantee(ctx, input.grantee);
      const grant: GrantInput = {
        patientId: input.patientId,
        grantee: { kind: input.grantee.kind.toLowerCase() as GrantInput['grantee']['kind'], id: input.grantee.id },
        categories: input.categories,
        actions: lower<Action>(input.actions ?? ['READ']),
        purposes: input.purposes,
        effect: (input.effect ?? 'PERMIT') === 'PERMIT' ? 'permit' : 'deny',
        validFrom: input.validFrom ?? null,
        validUntil: input.validUntil ?? null,
        identified: Boolean(input.identified),
        exceptions: (input.exceptions ?? []).map((e) => ({ categories: e.categories ?? undefined, loincClass: e.loincClass, dataFrom: e.dataFrom, dataUntil: e.dataUntil })),
      };
      try {
        const { consent, version } = await grantConsent(ctx.consent.engine.db, grant, ctx.identity);
        ctx.consent.engine.evict(input.patientId);
        await ctx.consent.notifier.announce({ patientId: input.patientId, version });
        return view(ctx, consent);
      } catch (err) {
        if (err instanceof ConsentInputError) throw userError('BAD_USER_INPUT', err.message, { field: err.field });
        throw err;
      }
    },

    async revokeConsent(_: unknown, { id }: { id: string }, ctx: Ctx) {
      // The gate has found the consent and decided CONSENT write for its patient; unknown
      // and not-yours both answered the same NOT_FOUND there (access.ts).
      const db = ctx.consent.engine.db;
      const existing = await db.getRepository(Consent).findOneBy({ id });
      if (!existing || existing.parentId) throw consentNotFound(id);
      const result = await revokeConsent(db, existing.patientId, id, ctx.identity);
      ctx.consent.engine.evict(existing.patientId);
      await ctx.consent.notifier.announce({ patientId: existing.patientId, version: result!.version });
      return view(ctx, result!.consent);
    },

    async breakTheGlass(_: unknown, args: { patientId: string; justification: string; minutes?: number | null }, ctx: Ctx) {
      const { identity } = ctx;
      if (identity.role !== 'clinician') throw userError('FORBIDDEN', 'Only clinicians may break the glass');
      if (identity.purpose !== 'EMERGENCY') throw userError('FORBIDDEN', 'Breaking the glass needs X-Purpose-Of-Use: EMERGENCY');
      const justification = args.justification.trim();
      if (justification.length < JUSTIFICATION_LENGTH.min || justification.length > JUSTIFICATION_LENGTH.max) {
        throw userError('BAD_USER_INPUT', `Write a justification of ${JUSTIFICATION_LENGTH.min} to ${JUSTIFICATION_LENGTH.max} characters`, { field: 'justification' });
      }
      const minutes = args.minutes ?? 60;
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_BREAK_GLASS_MINUTES) {
        throw userError('BAD_USER_INPUT', `minutes must be 1 to ${MAX_BREAK_GLASS_MINUTES}`, { field: 'minutes' });
      }
      // The patient is NOT looked up: an unknown id is answered exactly like a hidden
      // patient's, so breaking the glass cannot be used to learn who has a record. The
      // access is reviewed by compliance either way (a fishing attempt shows there too).
      if (!PATIENT_ID.test(args.patientId)) throw userError('BAD_USER_INPUT', 'patientId is not a patient id', { field: 'patientId' });
      const now = new Date();
      const row: BreakGlass = {
        id: newId('btg'),
        userId: identity.subject,
        patientId: args.patientId,
        justification,
        startedAt: now,
        expiresAt: new Date(now.getTime() + minutes * 60_000),
        reviewedAt: null,
        reviewedBy: null,
        reviewNote: null,
      };
      const consentDb = ctx.consent.engine.db;
      const version = await serialized(consentDb, () =>
        consentDb.transaction(async (tx) => {
          await tx.getRepository(BreakGlass).insert(row);
          const version = await bumpVersion(tx, args.patientId);
          // The justification is free text: the ledger commits to it only through payloadDigest.
          await appendToOutbox(tx, [{ kind: 'breakglass.started', payload: { ...actorFields(identity), patientId: row.patientId, breakGlassId: row.id, validUntil: row.expiresAt.toISOString(), consentVersion: version, justification } }], now);
          return version;
        }),
      );
      ctx.consent.engine.evict(args.patientId);
      await ctx.consent.notifier.announce({ patientId: args.patientId, version });
      return row;
    },

  },

  Patient: {
    async consents(p: { id: string }, _: unknown, ctx: Ctx) {
      const all = await consentsOf(ctx.consent.engine.db, p.id);
      const children = new Map<string, Consent[]>();
      for (const c of all) if (c.parentId) children.set(c.parentId, [...(children.get(c.parentId) ?? []), c]);
      return all.filter((c) => !c.parentId).map((c) => consentView(c, children.get(c.id) ?? []));
    },
  },
};

/** Used by the gate to find whose consent a revocation touches (exceptions are revoked with their consent, never alone). */
export async function patientOfConsent(ctx: Ctx, id: string): Promise<string | null> {
  const row = await ctx.consent.engine.db.getRepository(Consent).findOne({ select: { patientId: true, parentId: true }, where: { id } });
  return row && !row.parentId ? row.patientId : null;
}

/** An unknown consent, and one the caller may not change, answer the same. */
export const consentNotFound = (id: string) => userError('NOT_FOUND', `Consent ${JSON.stringify(id)} does not exist`, { kind: 'Consent', id });

