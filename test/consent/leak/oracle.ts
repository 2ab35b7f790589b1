/**
 * The oracle: what each viewer may see, computed without the resolvers. Rows come
 * straight from each subgraph's database (its TypeORM entities); decisions from the
 * consent engine (`ConsentEngine.policies` + `decide`) with principals built here, plus
 * this file's own matching of exceptions against rows. It encodes the contract of
 * issue 9, one rule per kind of patient row:
 *
 *   Patient        any of DEMOGRAPHICS/LABS/DEVICES/RESEARCH; demographic fields need
 *                  DEMOGRAPHICS; consents CONSENT; accessLog AUDIT
 *   LabResult      LABS, and no exclusion matches it (every part it sets: the code's
 *                  LOINC class, effectiveAt >= from, effectiveAt < until)
 *   Device         DEVICES of its owner; DeviceReading: its device, and no DEVICES
 *                  exclusion matches recordedAt
 *   Consent        CONSENT (the patient themself)
 *   BreakGlass     compliance, or the clinician who opened it
 *   AuditEvent     compliance for OPERATIONS, or AUDIT of the event's patient
 *   Enrolment      the patient; a member of its project in project context (see below);
 *                  else RESEARCH with non-project principals, never for a researcher
 *   CohortSummary  members only; over members visible in project context whose LABS are
 *                  allowed there with no exclusion of the code's class or of a period;
 *                  withheld under COHORT_MIN_SIZE
 *   ResearchSubject  a member of its project; the enrolment not WITHDRAWN; RESEARCH in
 *                  project context. Named by the project pseudonym (recomputed here with
 *                  the hub's PSEUDONYM_KEY), never by patient id
 *   ResearchLabResult / ResearchReading  the subject is visible, LABS / DEVICES are
 *                  allowed in project context, and no exclusion of either decision matches
 *                  the row (as LabResult and DeviceReading, with the project's decisions)
 *
 * Project context of project P: the caller is a member of P, `project:P` alone is
 * allowed, and the caller's non-project principals plus `project:P` are allowed (a
 * personal denial still wins).
 *
 * A viewer without the `read` scope may read nothing.
 */
import type { DataSource } from 'typeorm';
import type { Env } from '../../../common/config';
import { createDataSource, type DatabaseSpec } from '../../../common/database';
import type { Purpose, Scope } from '../../../common/signed-identity';
import { codesOfClass, LOINC_BY_CODE } from '../../../common/loinc';
import { IDENTITY_DATABASE } from '../../../gateway/identity/database';
import { User } from '../../../gateway/identity/entities';
import { LEDGER_DATABASE } from '../../../ledger/store/database';
import { LedgerLeaf } from '../../../ledger/store/entities';
import { CONSENT_DATABASE } from '../../../consent/database';
import { ConsentEngine, type Decision, type Exclusion, type PatientPolicy } from '../../../consent/engine';
import { BreakGlass, Consent, ProjectMember } from '../../../consent/entities';
import type { Category } from '../../../consent/vocabulary';
import { GRANTABLE } from '../../../consent/vocabulary';
import { SUBGRAPHS } from '../../../subgraphs';
import { Device, DeviceReading } from '../../../subgraphs/devices/entities';
import { databaseSpec } from '../../../subgraphs/kit/server';
import { LabResult } from '../../../subgraphs/labs/entities';
import { Patient } from '../../../subgraphs/patients/entities';
import { Enrolment, ResearchProject } from '../../../subgraphs/research/entities';
import { researchSecrets } from '../../../subgraphs/kit/research-series';
import type { Pseudonymizer } from '../../../subgraphs/research/pseudonyms';

export const COHORT_MIN_SIZE = 10;

export interface Viewer {
  /** e.g. `clinician/EMERGENCY` */
  name: string;
  user: User;
  purpose: Purpose;
  scopes: Scope[];
  token: string;
  /** Every principal, as the contract lists them. */
  principals: string;
  /** The same without `project:` entries. */
  base: string;
  projects: Set<string>;
}

/** The viewer's principals, built here from the user and project_member (not by the engine). */
export function principalsFor(user: User, memberships: ProjectMember[]): { principals: string; base: string; projects: Set<string> } {
  const base = [`user:${user.id}`, `role:${user.role}@*`];
  if (user.institutionId) base.push(`role:${user.role}@${user.institutionId}`);
  if (user.practitionerId) base.push(`practitioner:${user.practitionerId}`);
  if (user.role === 'patient' && user.patientId) base.push(`patient:${user.patientId}`);
  const projects = new Set(user.practitionerId ? memberships.filter((m) => m.practitionerId === user.practitionerId).map((m) => m.projectId) : []);
  return { principals: [...base, ...[...projects].map((p) => `project:${p}`)].join('|'), base: base.join('|'), projects };
}

export interface CohortExpectation {
  members: string[];
  count: number;
  mean: number | null;
  min: number | null;
  max: number | null;
}

interface Stores {
  consent: DataSource;
  identity: DataSource;
  patients: DataSource;
  labs: DataSource;
  devices: DataSource;
  research: DataSource;
  ledger: DataSource;
}

const DENIED: Decision = { allowed: false, decidedBy: 'no-read-scope', version: -1, exclusions: [], identified: false };

export class Oracle {
  readonly engine: ConsentEngine;
  patients = new Map<string, Patient>();
  labs = new Map<string, LabResult>();
  labsByPatient = new Map<string, LabResult[]>();
  devices = new Map<string, Device>();
  readings = new Map<string, DeviceReading>();
  readingsByDevice = new Map<string, DeviceReading[]>();
  enrolments: Enrolment[] = [];
  /** `<project> <pseudonym>` → the enrolment it names (pseudonyms as the hub computes them). */
  subjects = new Map<string, Enrolment>();
  projects = new Map<string, ResearchProject>();
  members: ProjectMember[] = [];
  consents = new Map<string, Consent>();
  breakGlass = new Map<string, BreakGlass>();
  users: User[] = [];
  /** Ledger event id → the patient it is about (null: none). */
  events = new Map<string, string | null>();
  private policies = new Map<string, PatientPolicy>();
  private decisions = new Map<string, Decision>();

  private constructor(
    private readonly stores: Stores,
    /** The hub's own pseudonym function: the key it loads (PSEUDONYM_KEY, else DATA_DIR/keys/pseudonym.key). */
    readonly pseudonym: Pseudonymizer,
  ) {
    this.engine = new ConsentEngine(stores.consent);
  }

  static async open(env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR' | 'PSEUDONYM_KEY'>): Promise<Oracle> {
    // The hub's schemas are migrated already. On PostgreSQL the oracle holds one
    // connection per database, opened now and kept (never closed when idle): the server's
    // connections are shared with the hub under test and with other suites, and one the
    // oracle gave back might not be there when it needs one again.
    const small = async (spec: DatabaseSpec) => {
      const ds = createDataSource(spec, env);
      if (ds.options.type === 'postgres') ds.setOptions({ extra: { ...(ds.options.extra as object), max: 1, idleTimeoutMillis: 0 } });
      return ds.initialize();
    };
    const [consent, identity, patients, labs, devices, research, ledger] = await Promise.all([
      small(CONSENT_DATABASE),
      small(IDENTITY_DATABASE),
      small(databaseSpec(SUBGRAPHS.patients)),
      small(databaseSpec(SUBGRAPHS.labs)),
      small(databaseSpec(SUBGRAPHS.devices)),
      small(databaseSpec(SUBGRAPHS.research)),
      small(LEDGER_DATABASE),
    ]);
    const oracle = new Oracle({ consent, identity, patients, labs, devices, research, ledger }, researchSecrets(env).pseudonym);
    await oracle.refresh();
    return oracle;
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.stores).map((db) => db.destroy()));
  }

  /** The consent store, for writing through the product's own functions. */
  get consentDb(): DataSource {
    return this.stores.consent;
  }

  /** The gateway's identity store, for minting API tokens as `custodian token` does. */
  get identityDb(): DataSource {
    return this.stores.identity;
  }

  /**
   * Reads the rows again — all of them, or only what mutations change (devices,
   * readings, consents, break-the-glass) — and the consents as they stand now.
   */
  async refresh(what: 'all' | 'mutable' = 'all'): Promise<void> {
    const s = this.stores;
    if (what === 'all') {
      const [patients, labs, enrolments, projects, members, users] = await Promise.all([
        s.patients.getRepository(Patient).find(),
        s.labs.getRepository(LabResult).find(),
        s.research.getRepository(Enrolment).find(),
        s.research.getRepository(ResearchProject).find(),
        s.consent.getRepository(ProjectMember).find(),
        s.identity.getRepository(User).find(),
      ]);
      this.patients = new Map(patients.map((p) => [p.id, p]));
      this.labs = new Map(labs.map((l) => [l.id, l]));
      this.labsByPatient = group(labs, (l) => l.patientId);
      this.enrolments = enrolments;
      this.subjects = new Map(enrolments.map((e) => [`${e.projectId} ${this.pseudonym(e.projectId, e.patientId)}`, e]));
      this.projects = new Map(projects.map((p) => [p.id, p]));
      this.members = members;
      this.users = users;
    }
    const [devices, readings, consents, glass] = await Promise.all([
      s.devices.getRepository(Device).find(),
      s.devices.getRepository(DeviceReading).find(),
      s.consent.getRepository(Consent).find(),
      s.consent.getRepository(BreakGlass).find(),
    ]);
    this.devices = new Map(devices.map((d) => [d.id, d]));
    this.readings = new Map(readings.map((r) => [r.id, r]));
    this.readingsByDevice = group(readings, (r) => r.deviceId);
    this.consents = new Map(consents.map((c) => [c.id, c]));
    this.breakGlass = new Map(glass.map((g) => [g.id, g]));
    this.policies = await this.engine.policies([...this.patients.keys()]);
    this.decisions.clear();
  }

  /** The ledger, as far as it has been appended: which patient each event is about. */
  async loadEvents(): Promise<void> {
    const leaves = await this.stores.ledger.getRepository(LedgerLeaf).find({ select: { eventId: true, leafData: true } });
    for (const l of leaves) {
      const event = JSON.parse(l.leafData) as { patientId?: unknown };
      this.events.set(l.eventId, typeof event.patientId === 'string' ? event.patientId : null);
    }
  }

  viewer(name: string, user: User, purpose: Purpose, scopes: Scope[], token: string): Viewer {
    return { name, user, purpose, scopes, token, ...principalsFor(user, this.members) };
  }

  /** The engine's decision for these principals (the viewer's, unless given). */
  decide(v: Viewer, patientId: string, category: Category, principals = v.principals): Decision {
    if (!v.scopes.includes('read')) return DENIED;
    const key = `${principals}#${v.purpose}#${patientId}#${category}`;
    let d = this.decisions.get(key);
    if (!d) {
      const policy = this.policies.get(patientId);
      d = policy
        ? this.engine.decide(policy, { principals, patientId, category, action: 'read', purpose: v.purpose, at: new Date() })
        : { allowed: false, decidedBy: 'unknown-patient', version: -1, exclusions: [], identified: false };
      this.decisions.set(key, d);
    }
    return d;
  }

  allowed(v: Viewer, patientId: string, category: Category): boolean {
    return this.decide(v, patientId, category).allowed;
  }

  isSelf(v: Viewer, patientId: string): boolean {
    return v.user.role === 'patient' && v.user.patientId === patientId && v.scopes.includes('read');
  }

  // ---- one rule per row kind -------------------------------------------------------

  patientVisible(v: Viewer, patientId: string): boolean {
    return this.patients.has(patientId) && GRANTABLE.some((c) => this.allowed(v, patientId, c));
  }

  labVisible(v: Viewer, lab: LabResult): boolean {
    const d = this.decide(v, lab.patientId, 'LABS');
    return d.allowed && !d.exclusions.some((x) => excludesLab(x, lab));
  }

  deviceVisible(v: Viewer, device: Device): boolean {
    return this.allowed(v, device.ownerPatientId, 'DEVICES');
  }

  readingVisible(v: Viewer, reading: DeviceReading): boolean {
    const device = this.devices.get(reading.deviceId);
    if (!device || !this.deviceVisible(v, device)) return false;
    return !this.decide(v, device.ownerPatientId, 'DEVICES').exclusions.some((x) => excludesReading(x, reading));
  }

  consentVisible(v: Viewer, consent: Consent): boolean {
    return this.allowed(v, consent.patientId, 'CONSENT');
  }

  breakGlassVisible(v: Viewer, row: BreakGlass): boolean {
    return v.scopes.includes('read') && (v.user.role === 'compliance' || v.user.id === row.userId);
  }

  auditEventVisible(v: Viewer, eventPatientId: string | null): boolean {
    if (!v.scopes.includes('read')) return false;
    if (v.user.role === 'compliance' && v.purpose === 'OPERATIONS') return true;
    return eventPatientId !== null && this.allowed(v, eventPatientId, 'AUDIT');
  }

  isMember(v: Viewer, projectId: string): boolean {
    return v.projects.has(projectId);
  }

  /** The two decisions of project context, or null when the caller is not a member. */
  projectDecisions(v: Viewer, patientId: string, projectId: string, category: Category): [Decision, Decision] | null {
    if (!this.isMember(v, projectId)) return null;
    const project = `project:${projectId}`;
    return [this.decide(v, patientId, category, project), this.decide(v, patientId, category, `${v.base}|${project}`)];
  }

  inProjectContext(v: Viewer, patientId: string, projectId: string, category: Category = 'RESEARCH'): boolean {
    const d = this.projectDecisions(v, patientId, projectId, category);
    return d !== null && d[0].allowed && d[1].allowed;
  }

  enrolmentVisible(v: Viewer, e: Pick<Enrolment, 'patientId' | 'projectId'>): boolean {
    if (!v.scopes.includes('read')) return false;
    if (this.isSelf(v, e.patientId)) return true;
    if (this.inProjectContext(v, e.patientId, e.projectId)) return true;
    if (v.user.role === 'researcher') return false;
    return this.decide(v, e.patientId, 'RESEARCH', v.base).allowed;
  }

  pseudonymAllowed(v: Viewer, e: Pick<Enrolment, 'patientId' | 'projectId'>): boolean {
    return this.isSelf(v, e.patientId) || this.inProjectContext(v, e.patientId, e.projectId);
  }

  /** `Enrolment.patient` may be non-null only if the project consent is identified, or DEMOGRAPHICS is allowed. */
  enrolmentPatientAllowed(v: Viewer, e: Pick<Enrolment, 'patientId' | 'projectId'>): boolean {
    if (this.allowed(v, e.patientId, 'DEMOGRAPHICS')) return true;
    return this.decide(v, e.patientId, 'RESEARCH', `project:${e.projectId}`).identified && this.enrolmentVisible(v, e);
  }

  /** The enrolment a project pseudonym names (whatever its status), if any. */
  subject(projectId: string, pseudonym: string): Enrolment | undefined {
    return this.subjects.get(`${projectId} ${pseudonym}`);
  }

  subjectVisible(v: Viewer, e: Enrolment): boolean {
    return v.scopes.includes('read') && e.status !== 'WITHDRAWN' && this.inProjectContext(v, e.patientId, e.projectId, 'RESEARCH');
  }

  /** The exclusions of both project-context decisions for `category`, or null when either refuses. */
  private seriesExclusions(v: Viewer, e: Enrolment, category: 'LABS' | 'DEVICES'): Exclusion[] | null {
    if (!this.subjectVisible(v, e)) return null;
    const d = this.projectDecisions(v, e.patientId, e.projectId, category);
    if (!d || !d[0].allowed || !d[1].allowed) return null;
    return [...d[0].exclusions, ...d[1].exclusions];
  }

  seriesLabVisible(v: Viewer, e: Enrolment, lab: LabResult): boolean {
    const exclusions = this.seriesExclusions(v, e, 'LABS');
    return lab.patientId === e.patientId && exclusions !== null && !exclusions.some((x) => excludesLab(x, lab));
  }

  seriesReadingVisible(v: Viewer, e: Enrolment, reading: DeviceReading): boolean {
    if (this.devices.get(reading.deviceId)?.ownerPatientId !== e.patientId) return false;
    const exclusions = this.seriesExclusions(v, e, 'DEVICES');
    return exclusions !== null && !exclusions.some((x) => excludesReading(x, reading));
  }

  /** A patient's readings, over all their devices. */
  readingsOfPatient(patientId: string): DeviceReading[] {
    return [...this.devices.values()].filter((d) => d.ownerPatientId === patientId).flatMap((d) => this.readingsByDevice.get(d.id) ?? []);
  }

  /** What cohortSummary(projectId, loinc) may count for this viewer (null: not a member). */
  cohort(v: Viewer, projectId: string, loinc: string): CohortExpectation | null {
    if (!v.scopes.includes('read') || !this.isMember(v, projectId)) return null;
    const loincClass = LOINC_BY_CODE.get(loinc)?.loincClass ?? null;
    const members = this.enrolments
      .filter((e) => e.projectId === projectId && e.status === 'ACTIVE')
      .map((e) => e.patientId)
      .filter((p) => {
        if (!this.inProjectContext(v, p, projectId, 'RESEARCH')) return false;
        const labs = this.projectDecisions(v, p, projectId, 'LABS')!;
        if (!labs[0].allowed || !labs[1].allowed) return false;
        const exclusions = [...labs[0].exclusions, ...labs[1].exclusions];
        return !exclusions.some((x) => (x.loincClass !== null && x.loincClass === loincClass) || x.from !== null || x.until !== null);
      })
      .sort();
    const values: number[] = [];
    for (const p of members) {
      const latest = (this.labsByPatient.get(p) ?? [])
        .filter((l) => l.loincCode === loinc && (l.status === 'FINAL' || l.status === 'AMENDED'))
        .sort((a, b) => b.effectiveAt.getTime() - a.effectiveAt.getTime() || (b.id < a.id ? -1 : 1))[0];
      if (latest) values.push(latest.value);
    }
    const n = values.length;
    return {
      members,
      count: n,
      mean: n ? values.reduce((a, b) => a + b, 0) / n : null,
      min: n ? Math.min(...values) : null,
      max: n ? Math.max(...values) : null,
    };
  }
}

/** An exclusion hides a result when every part it sets matches (class, from, until). */
export function excludesLab(x: Pick<Exclusion, 'loincClass' | 'from' | 'until'>, lab: Pick<LabResult, 'loincCode' | 'effectiveAt'>): boolean {
  if (x.loincClass !== null && !codesOfClass(x.loincClass).includes(lab.loincCode)) return false;
  if (x.from !== null && lab.effectiveAt < x.from) return false;
  if (x.until !== null && lab.effectiveAt >= x.until) return false;
  return true;
}

/**
 * A DEVICES exclusion hides a reading recorded in its period. (A LOINC class on DEVICES
 * is refused at grant time by the contract, and the world here never holds one; such an
 * exclusion is taken to name no reading.)
 */
export function excludesReading(x: Pick<Exclusion, 'loincClass' | 'from' | 'until'>, r: Pick<DeviceReading, 'recordedAt'>): boolean {
  if (x.loincClass !== null) return false;
  if (x.from !== null && r.recordedAt < x.from) return false;
  if (x.until !== null && r.recordedAt >= x.until) return false;
  return x.from !== null || x.until !== null;
}

function group<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}
