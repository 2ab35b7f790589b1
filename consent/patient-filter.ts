/**
 * Which patients a requester may list, as a SQL predicate over the patient table, so a
 * list (`patients(...)`) is filtered inside the query and its pages and totals never
 * count anyone hidden.
 *
 * It is the engine's decision, compiled: visible = (patients a base policy names the
 * requester for — base-policies.ts, turned into SQL here) minus the few whose consents
 * deny the requester, plus the few whose consents (or a break-the-glass access) permit
 * them. Only patients whose consents name one of the requester's principals can differ
 * from the base set, so only they need a decision from the engine; they are few.
 */
import { In, type DataSource } from 'typeorm';
import { BASE_POLICIES, baseCovers, type BasePolicy } from './base-policies';
import { BreakGlass, Consent } from './entities';
import type { Predicate } from './exceptions';
import { granteePrincipal } from './policy-lines';
import { allPrincipals, type Principals } from './principals';
import type { Action, Category, Purpose } from './vocabulary';

export interface PatientColumns {
  /** The patient id column, e.g. `p.id`. */
  id: string;
  /** The home institution column, e.g. `p.institution_id`. */
  homeInstitution: string;
}

export interface ListRequest {
  category: Category;
  action: Action;
  purpose: Purpose;
}

/** One base policy as SQL for this requester, or null when it names none of their principals. */
function baseSql(policy: BasePolicy, principals: Principals, columns: PatientColumns, n: number): Predicate | null {
  const { subject } = policy;
  switch (subject.kind) {
    case 'patient-self': {
      const self = principals.personal.filter((p) => p.startsWith('patient:')).map((p) => p.slice('patient:'.length));
      return self.length ? { sql: `${columns.id} IN (:...base${n})`, params: { [`base${n}`]: self } } : null;
    }
    case 'role-at-home': {
      const prefix = `role:${subject.role}@`;
      const homes = principals.personal.filter((p) => p.startsWith(prefix) && !p.endsWith('@*')).map((p) => p.slice(prefix.length));
      return homes.length ? { sql: `${columns.homeInstitution} IN (:...base${n})`, params: { [`base${n}`]: homes } } : null;
    }
    case 'role-anywhere':
      return principals.personal.includes(`role:${subject.role}@*`) ? { sql: '1 = 1', params: {} } : null;
  }
}

/**
 * The visible patients for `request`. `decide(ids)` returns those of `ids` the engine
 * allows (the caller's per-request decisions, so each is recorded like any other).
 */
export async function patientFilter(
  consentDb: DataSource,
  principals: Principals,
  request: ListRequest,
  columns: PatientColumns,
  decide: (patientIds: string[]) => Promise<string[]>,
  subject: string,
): Promise<Predicate> {
  const mine = allPrincipals(principals);
  const granteeIds = mine.map((p) => p.slice(p.indexOf(':') + 1));
  const [named, glass] = await Promise.all([
    consentDb.getRepository(Consent).find({ select: { patientId: true, granteeKind: true, granteeId: true }, where: { granteeId: In(granteeIds), status: 'active' } }),
    consentDb.getRepository(BreakGlass).find({ select: { patientId: true }, where: { userId: subject } }),
  ]);
  const candidates = [
    ...new Set([...named.filter((c) => mine.includes(granteePrincipal(c))).map((c) => c.patientId), ...glass.map((g) => g.patientId)]),
  ];
  const permitted = await decide(candidates);
  const permittedSet = new Set(permitted);
  const denied = candidates.filter((id) => !permittedSet.has(id));

  const bases = BASE_POLICIES.filter((p) => baseCovers(p, request.category, request.action, request.purpose))
    .map((p, i) => baseSql(p, principals, columns, i))
    .filter((p): p is Predicate => p !== null);
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  if (bases.length) {
    const base = bases.map((b) => b.sql).join(' OR ');
    for (const b of bases) Object.assign(params, b.params);
    parts.push(denied.length ? `((${base}) AND ${columns.id} NOT IN (:...deniedIds))` : `(${base})`);
    if (denied.length) params.deniedIds = denied;
  }
  if (permitted.length) {
    parts.push(`${columns.id} IN (:...permittedIds)`);
    params.permittedIds = permitted;
  }
  return { sql: parts.length ? `(${parts.join(' OR ')})` : '1 = 0', params };
}
