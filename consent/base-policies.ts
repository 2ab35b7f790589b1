/**
 * The institution-level base policies, stated once. Every patient has them besides their
 * own consents. Each names its subject relative to the patient (the patient themself,
 * a role at the patient's home institution, a role anywhere), and is compiled two ways:
 *
 *   - into Casbin policy lines, one patient at a time (policy-lines.ts), for decisions;
 *   - into a SQL predicate over the patient table (patient-filter.ts), for lists, so a
 *     page of patients is filtered inside the query without a decision per row.
 *
 * Change a rule here and both follow: there is no second statement of it.
 */
import type { Role } from '../common/signed-identity';
import { categoriesWhere, type Action, type Category, type Purpose } from './vocabulary';

/** Whom a base policy names, relative to the patient it is about. */
export type BaseSubject =
  | { kind: 'patient-self' }
  /** `role:<role>@<the patient's home institution>` */
  | { kind: 'role-at-home'; role: Role }
  /** `role:<role>@*`: everyone in that role, wherever they work */
  | { kind: 'role-anywhere'; role: Role };

export interface BasePolicy {
  /** What decisions and the ledger cite: `base:<name>`. */
  id: `base:${string}`;
  subject: BaseSubject;
  categories: readonly Category[] | '*';
  actions: readonly Action[];
  purposes: readonly Purpose[] | '*';
  /** Why, in words explainAccess shows. */
  explanation: string;
}

export const BASE_POLICIES: readonly BasePolicy[] = [
  {
    id: 'base:patient-self',
    subject: { kind: 'patient-self' },
    categories: '*',
    actions: ['read', 'write'],
    purposes: '*',
    explanation: 'patients may see and manage all of their own data',
  },
  {
    id: 'base:treating-institution',
    subject: { kind: 'role-at-home', role: 'clinician' },
    categories: categoriesWhere((t) => t.treatingInstitution),
    actions: ['read', 'write'],
    purposes: ['TREATMENT'],
    explanation: "clinicians of the patient's home institution may see clinical data for treatment",
  },
  {
    id: 'base:compliance-audit',
    subject: { kind: 'role-anywhere', role: 'compliance' },
    categories: ['AUDIT'],
    actions: ['read'],
    purposes: ['OPERATIONS'],
    explanation: 'compliance officers may read the audit trail, never clinical values',
  },
];

/** What the base policies need to know of a patient. */
export interface PatientFacts {
  id: string;
  homeInstitution: string | null;
}

/** The principal a base policy names for this patient (null: it names nobody, e.g. no home institution). */
export function basePrincipal(subject: BaseSubject, patient: PatientFacts): string | null {
  switch (subject.kind) {
    case 'patient-self':
      return `patient:${patient.id}`;
    case 'role-at-home':
      return patient.homeInstitution ? `role:${subject.role}@${patient.homeInstitution}` : null;
    case 'role-anywhere':
      return `role:${subject.role}@*`;
  }
}

const covers = <T extends string>(list: readonly T[] | '*', value: T) => list === '*' || list.includes(value);

/** Does this base policy speak to a request for `category`, `action`, `purpose`? (Base policies are never time-boxed.) */
export function baseCovers(policy: BasePolicy, category: Category, action: Action, purpose: Purpose): boolean {
  return covers(policy.categories, category) && covers(policy.actions, action) && covers(policy.purposes, purpose);
}

/** A Casbin list field: `*` or `A|B|C`. */
export function listField(values: readonly string[] | '*'): string {
  return values === '*' ? '*' : values.join('|');
}

export function basePolicy(id: string): BasePolicy | undefined {
  return BASE_POLICIES.find((p) => p.id === id);
}
