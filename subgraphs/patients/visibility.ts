/**
 * Which patients a requester may list, as a SQL predicate — so `patients(...)` filters
 * inside the query and its pages and totalCount never reveal anyone hidden.
 *
 * Visible = (the base set: a clinician's home-institution patients, or a patient
 * themself) minus those who deny this requester, plus those whose consent (or a
 * break-the-glass access) names them. Only patients whose consents name one of the
 * requester's principals need a decision from the engine; they are few.
 */
import { In } from 'typeorm';
import { BreakGlass, Consent } from '../../policies/entities';
import type { SubgraphContext } from '../kit/context';

export interface Predicate {
  sql: string;
  params: Record<string, unknown>;
}

export async function visiblePatients(ctx: SubgraphContext, alias = 'p'): Promise<Predicate> {
  const { identity } = ctx;
  const consentDb = ctx.consent.engine.db;
  const principals = (await ctx.access.principalString()).split('|');
  const granteeIds = principals.map((p) => p.slice(p.indexOf(':') + 1));
  const named = await consentDb.getRepository(Consent).find({ select: { patientId: true, granteeKind: true, granteeId: true }, where: { granteeId: In(granteeIds), status: 'active' } });
  const glass = await consentDb.getRepository(BreakGlass).find({ select: { patientId: true }, where: { userId: identity.subject } });
  const candidates = [
    ...new Set([...named.filter((c) => principals.includes(`${c.granteeKind}:${c.granteeId}`)).map((c) => c.patientId), ...glass.map((g) => g.patientId)]),
  ];
  const permitted = await ctx.access.allowed(candidates, 'DEMOGRAPHICS');
  const denied = candidates.filter((id) => !permitted.includes(id));

  let base: Predicate | null = null;
  if (identity.role === 'patient' && identity.patientId) base = { sql: `${alias}.id = :selfId`, params: { selfId: identity.patientId } };
  if (identity.role === 'clinician' && identity.institutionId && identity.purpose === 'TREATMENT') {
    base = { sql: `${alias}.institution_id = :homeInstitution`, params: { homeInstitution: identity.institutionId } };
  }
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  if (base) {
    parts.push(denied.length ? `(${base.sql} AND ${alias}.id NOT IN (:...deniedIds))` : `(${base.sql})`);
    Object.assign(params, base.params, denied.length ? { deniedIds: denied } : {});
  }
  if (permitted.length) {
    parts.push(`${alias}.id IN (:...permittedIds)`);
    params.permittedIds = permitted;
  }
  return { sql: parts.length ? `(${parts.join(' OR ')})` : '1 = 0', params };
}
