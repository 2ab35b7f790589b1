/**
 * Changing consents: grant (with nested exceptions) and revoke. Each change and the
 * bump of the patient's consent version commit in one transaction; the caller then
 * announces the new version (notifications.ts). Validation happens before anything is
 * written, and nothing half-written survives a refusal. The ledger event of each change
 * (consent.granted, consent.revoked) is written to the consent database's outbox in the
 * same transaction: a change is never committed without its event, nor the reverse.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { serialized } from '../common/database';
import type { ConsentPayload } from '../ledger/core/events';
import { actorFields, appendToOutbox, type EventActor } from '../ledger/pipeline/outbox';
import { newId } from '../common/ids';
import { LOINC_CLASSES } from '../common/loinc';
import { Consent, ConsentVersion, type Effect, type GranteeKind } from './entities';
import { ACTIONS, CATEGORY_TRAITS, categoriesWhere, GRANTABLE, PURPOSES, type Action, type Category, type Purpose } from './vocabulary';

export class ConsentInputError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

export interface Grantee {
  kind: GranteeKind;
  /** practitioner id; `<role>@<institution id>`; or project id. */
  id: string;
}

export interface ExceptionInput {
  /** Narrows to these categories (default: the consent's). */
  categories?: Category[];
  loincClass?: string | null;
  dataFrom?: Date | null;
  dataUntil?: Date | null;
}

export interface GrantInput {
  patientId: string;
  grantee: Grantee;
  categories: Category[];
  actions: Action[];
  purposes: Purpose[];
  effect: Effect;
  validFrom?: Date | null;
  validUntil?: Date | null;
  identified?: boolean;
  exceptions?: ExceptionInput[];
}

/** The categories able to enforce each kind of exception, for the refusals to name them. */
const LOINC_CLASS_CATEGORIES = categoriesWhere((t) => t.exceptions.loincClass);
const PERIOD_CATEGORIES = categoriesWhere((t) => t.exceptions.period);
const inWords = new Intl.ListFormat('en', { type: 'conjunction' });

function nonEmptySubset<T extends string>(values: readonly T[], allowed: readonly string[], field: string): string {
  if (!values.length) throw new ConsentInputError(`${field} must not be empty`, field);
  const unknown = values.filter((v) => !allowed.includes(v));
  if (unknown.length) throw new ConsentInputError(`${field}: unknown ${unknown.join(', ')}; expected ${allowed.join(', ')}`, field);
  return [...new Set(values)].sort().join('|');
}

export function checkGrant(input: GrantInput, now = new Date()): void {
  nonEmptySubset(input.categories, GRANTABLE, 'categories');
  nonEmptySubset(input.actions, ACTIONS, 'actions');
  nonEmptySubset(input.purposes, PURPOSES, 'purposes');
  const from = input.validFrom ?? now;
  if (input.validUntil && input.validUntil <= from) throw new ConsentInputError('validUntil must be after validFrom', 'validUntil');
  if (input.validUntil && input.validUntil <= now) throw new ConsentInputError('validUntil is already past', 'validUntil');
  if (input.grantee.kind === 'role' && !/^(clinician|researcher)@[\w-]{1,40}$/.test(input.grantee.id)) {
    throw new ConsentInputError('a role grantee is "clinician@<institution id>" or "researcher@<institution id>"', 'grantee');
  }
  if (input.identified && input.grantee.kind !== 'project') throw new ConsentInputError('identified applies to research projects only', 'identified');
  // Demographics say who the patient is: granting them to a project while keeping the
  // patient pseudonymous would contradict itself (every member could look them up).
  if (input.grantee.kind === 'project' && input.effect === 'permit' && input.categories.includes('DEMOGRAPHICS') && !input.identified) {
    throw new ConsentInputError('DEMOGRAPHICS tell a project who you are: grant them with identified: true, or leave them out to stay pseudonymous', 'categories');
  }
  if (input.exceptions?.length && input.effect === 'deny') {
    // An exception inside a denial would re-open some rows of a denied category; the gate
    // decides by category first, so it could never be honoured. Grant a narrower permit instead.
    throw new ConsentInputError('exceptions narrow a permit; a denial takes none (grant a separate, narrower permit instead)', 'exceptions');
  }
  for (const [i, e] of (input.exceptions ?? []).entries()) {
    const field = `exceptions[${i}]`;
    if (e.categories) {
      nonEmptySubset(e.categories, GRANTABLE, `${field}.categories`);
      if (e.categories.some((c) => !input.categories.includes(c))) throw new ConsentInputError(`${field}: an exception narrows its consent's categories`, field);
    }
    if (e.loincClass && !LOINC_CLASSES.includes(e.loincClass)) {
      throw new ConsentInputError(`${field}.loincClass: unknown class ${e.loincClass}; known: ${LOINC_CLASSES.join(', ')}`, field);
    }
    if (!e.loincClass && !e.dataFrom && !e.dataUntil) throw new ConsentInputError(`${field}: say what it excludes (loincClass, dataFrom, dataUntil)`, field);
    if (e.dataFrom && e.dataUntil && e.dataUntil <= e.dataFrom) throw new ConsentInputError(`${field}: dataUntil must be after dataFrom`, field);
    // Every category the exception covers must be able to enforce it on every row;
    // one that cannot is refused here, never stored and ignored.
    for (const category of e.categories ?? input.categories) {
      const support = CATEGORY_TRAITS[category].exceptions;
      if (e.loincClass && !support.loincClass) {
        throw new ConsentInputError(
          `${field}: a LOINC class can narrow ${inWords.format(LOINC_CLASS_CATEGORIES)} only, not ${category}; give the exception categories: [${LOINC_CLASS_CATEGORIES.join(', ')}]`,
          field,
        );
      }
      if ((e.dataFrom || e.dataUntil) && !support.period) {
        throw new ConsentInputError(`${field}: a data period can narrow ${inWords.format(PERIOD_CATEGORIES)} only, not ${category}; give the exception categories that have dated rows`, field);
      }
    }
  }
}

export async function bumpVersion(tx: EntityManager, patientId: string): Promise<number> {
  const repo = tx.getRepository(ConsentVersion);
  const row = await repo.findOneBy({ patientId });
  const version = (row?.version ?? 0) + 1;
  if (row) await repo.update({ patientId }, { version });
  else await repo.insert({ patientId, version });
  return version;
}

/** The actor: a user id, or the user with role, request and purpose as the ledger records them. */
export type ConsentActor = string | EventActor;

export async function grantConsent(db: DataSource, input: GrantInput, actor: ConsentActor, now = new Date()): Promise<{ consent: Consent; version: number }> {
  checkGrant(input, now);
  return serialized(db, () => db.transaction(async (tx) => {
    const base = {
      patientId: input.patientId,
      granteeKind: input.grantee.kind,
      granteeId: input.grantee.id,
      actions: [...new Set(input.actions)].sort().join('|'),
      purposes: [...new Set(input.purposes)].sort().join('|'),
      validFrom: input.validFrom ?? now,
      validUntil: input.validUntil ?? null,
      status: 'active' as const,
      createdAt: now,
      createdBy: typeof actor === 'string' ? actor : actor.subject,
      revokedAt: null,
    };
    const consent: Consent = {
      ...base,
      id: newId('cns'),
      parentId: null,
      categories: [...new Set(input.categories)].sort().join('|'),
      effect: input.effect,
      dataLoincClass: null,
      dataFrom: null,
      dataUntil: null,
      identified: Boolean(input.identified),
    };
    await tx.getRepository(Consent).insert(consent);
    for (const e of input.exceptions ?? []) {
      await tx.getRepository(Consent).insert({
        ...base,
        id: newId('cns'),
        parentId: consent.id,
        categories: [...new Set(e.categories ?? input.categories)].sort().join('|'),
        effect: input.effect === 'permit' ? 'deny' : 'permit',
        dataLoincClass: e.loincClass ?? null,
        dataFrom: e.dataFrom ?? null,
        dataUntil: e.dataUntil ?? null,
        identified: false,
      });
    }
    const version = await bumpVersion(tx, input.patientId);
    await appendToOutbox(tx, [{ kind: 'consent.granted', payload: consentEvent(consent, actor, version, input.exceptions?.length ?? 0) }], now);
    return { consent, version };
  }));
}

/** What the ledger says of a consent change: ids, vocabulary words and instants only. */
function consentEvent(consent: Consent, actor: ConsentActor, version: number, exceptionCount?: number): ConsentPayload {
  return {
    ...actorFields(typeof actor === 'string' ? { subject: actor } : actor),
    patientId: consent.patientId,
    consentId: consent.id,
    granteeId: `${consent.granteeKind}:${consent.granteeId}`,
    categories: consent.categories,
    actions: consent.actions,
    purposes: consent.purposes,
    effect: consent.effect,
    validFrom: consent.validFrom.toISOString(),
    validUntil: consent.validUntil ? consent.validUntil.toISOString() : null,
    identified: consent.identified,
    ...(exceptionCount === undefined ? {} : { exceptionCount }),
    consentVersion: version,
  };
}

/** Revokes a consent and its exceptions. Returns null if there is no such consent of this patient. */
export async function revokeConsent(db: DataSource, patientId: string, consentId: string, actor: ConsentActor, now = new Date()): Promise<{ consent: Consent; version: number } | null> {
  return serialized(db, () => db.transaction(async (tx) => {
    const repo = tx.getRepository(Consent);
    const consent = await repo.findOneBy({ id: consentId, patientId });
    if (!consent) return null;
    if (consent.status === 'active') {
      await repo.update({ id: consentId }, { status: 'revoked', revokedAt: now });
      await repo.update({ parentId: consentId, status: 'active' }, { status: 'revoked', revokedAt: now });
      consent.status = 'revoked';
      consent.revokedAt = now;
    }
    const version = await bumpVersion(tx, patientId);
    await appendToOutbox(tx, [{ kind: 'consent.revoked', payload: consentEvent(consent, actor, version) }], now);
    return { consent, version };
  }));
}

export function consentsOf(db: DataSource, patientId: string): Promise<Consent[]> {
  return db.getRepository(Consent).find({ where: { patientId }, order: { createdAt: 'ASC', id: 'ASC' } });
}
