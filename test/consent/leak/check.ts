/**
 * Judging what came back: each observed row against the oracle's rule for its kind;
 * each connection's totalCount against the rows the viewer may see there; each error
 * for patient ids the viewer was not given and may not see.
 */
import type { GraphQLFormattedError } from 'graphql';
import { COHORT_MIN_SIZE, type Oracle, type Viewer } from './oracle';
import { PATIENT_DATA_TYPES } from './schema-paths';
import type { ConnectionTotal, Observation } from './walk';

export interface Leak {
  kind: string;
  viewer: string;
  path: string;
  row: string;
  why: string;
}

/** Rows that could not be told apart from others (an enrolment seen by pseudonym only). */
export interface Tally {
  checked: number;
  distinct: Set<string>;
  byType: Map<string, number>;
  /** Per type: the paths on which rows of it were returned. */
  pathsWithRows: Map<string, Set<string>>;
  ambiguous: number;
  uncheckedTotals: Set<string>;
  /** Served, but fewer than the contract allows (not a leak; reported). */
  underReported: string[];
  errorsWithPatientId: number;
  unsuppressedCohorts: number;
  /** Error codes seen, by code (and for unexpected ones, a few messages). */
  errorCodes: Map<string, number>;
  unexpected: string[];
}

export function newTally(): Tally {
  return {
    checked: 0,
    distinct: new Set(),
    byType: new Map(),
    pathsWithRows: new Map(),
    ambiguous: 0,
    uncheckedTotals: new Set(),
    underReported: [],
    errorsWithPatientId: 0,
    unsuppressedCohorts: 0,
    errorCodes: new Map(),
    unexpected: [],
  };
}

const DEMOGRAPHIC_FIELDS = ['name', 'birthDate', 'sex', 'identifiers', 'institution'];
/** A Patient field that is itself refused unless its category is allowed. */
const GUARDED_PATIENT_FIELDS: Record<string, 'LABS' | 'DEVICES' | 'CONSENT' | 'AUDIT'> = {
  labResults: 'LABS',
  devices: 'DEVICES',
  consents: 'CONSENT',
  accessLog: 'AUDIT',
};
const PATIENT_ID = /\bpat_[0-9a-f]{20}\b/g;
/** Refusals and bad ids are answers; anything else (INTERNAL_SERVER_ERROR...) means rows went unseen. */
export const EXPECTED_CODES = new Set(['FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT']);

export class Checker {
  readonly leaks: Leak[] = [];
  readonly tally = newTally();
  /** pseudonym → patient, as each patient sees their own enrolments. */
  readonly pseudonyms = new Map<string, string>();

  constructor(private readonly oracle: Oracle) {}

  private leak(kind: string, v: Viewer, o: { pathKey: string }, row: string, why: string): void {
    this.leaks.push({ kind, viewer: v.name, path: o.pathKey, row, why });
  }

  private count(v: Viewer, o: Observation, id: string): void {
    this.tally.checked++;
    this.tally.distinct.add(`${v.name}|${o.type}|${id}`);
    this.tally.byType.set(o.type, (this.tally.byType.get(o.type) ?? 0) + 1);
    const paths = this.tally.pathsWithRows.get(o.type) ?? new Set<string>();
    paths.add(o.pathKey);
    this.tally.pathsWithRows.set(o.type, paths);
  }

  /** Events not yet read from the ledger: judged once it has been read again. */
  private deferred: [Viewer, Observation][] = [];

  observe(v: Viewer, o: Observation): void {
    // Objects on the way that are not patient rows (a project, a payload) are judged by what they hold.
    if (!(PATIENT_DATA_TYPES as readonly string[]).includes(o.type)) return;
    if (o.type === 'AuditEvent' && !this.oracle.events.has(String(o.obj.id))) {
      this.deferred.push([v, o]);
      return;
    }
    const handler = (this as unknown as Record<string, (v: Viewer, o: Observation) => void>)[`check${o.type}`];
    if (!handler) throw new Error(`no rule for ${o.type}`);
    handler.call(this, v, o);
  }

  /** Judges the deferred events (call after Oracle.loadEvents). */
  flushDeferred(): void {
    const pending = this.deferred;
    this.deferred = [];
    for (const [v, o] of pending) this.checkAuditEvent(v, o);
  }

  checkPatient(v: Viewer, o: Observation): void {
    const id = String(o.obj.id);
    this.count(v, o, id);
    const { oracle } = this;
    if (!oracle.patients.has(id)) return this.leak('Patient', v, o, id, 'a patient that does not exist was served');
    if (!oracle.patientVisible(v, id)) this.leak('Patient', v, o, id, 'no category of this patient is allowed');
    const shown = DEMOGRAPHIC_FIELDS.filter((f) => o.obj[f] !== null && o.obj[f] !== undefined);
    if (shown.length && !oracle.allowed(v, id, 'DEMOGRAPHICS')) this.leak('Patient.demographics', v, o, id, `${shown.join(', ')} served without DEMOGRAPHICS`);
    for (const [field, category] of Object.entries(GUARDED_PATIENT_FIELDS)) {
      if (o.obj[field] !== null && o.obj[field] !== undefined && !oracle.allowed(v, id, category)) {
        this.leak(`Patient.${field}`, v, o, id, `served without ${category}`);
      }
    }
  }

  checkLabResult(v: Viewer, o: Observation): void {
    const id = String(o.obj.id);
    this.count(v, o, id);
    const lab = this.oracle.labs.get(id);
    if (!lab) return this.leak('LabResult', v, o, id, 'unknown lab result served');
    if (this.oracle.labVisible(v, lab)) return;
    const d = this.oracle.decide(v, lab.patientId, 'LABS');
    this.leak('LabResult', v, o, id, d.allowed ? `excluded by the consent's exception (${lab.loincCode} at ${lab.effectiveAt.toISOString()})` : `LABS not allowed (${d.decidedBy})`);
  }

  checkDevice(v: Viewer, o: Observation): void {
    const id = String(o.obj.id);
    this.count(v, o, id);
    const device = this.oracle.devices.get(id);
    if (!device) return this.leak('Device', v, o, id, 'unknown device served');
    if (!this.oracle.deviceVisible(v, device)) this.leak('Device', v, o, id, `DEVICES not allowed (${this.oracle.decide(v, device.ownerPatientId, 'DEVICES').decidedBy})`);
  }

  checkDeviceReading(v: Viewer, o: Observation): void {
    const id = String(o.obj.id);
    this.count(v, o, id);
    const reading = this.oracle.readings.get(id);
    if (!reading) return this.leak('DeviceReading', v, o, id, 'unknown reading served');
    if (this.oracle.readingVisible(v, reading)) return;
    const device = this.oracle.devices.get(reading.deviceId)!;
    const d = this.oracle.decide(v, device.ownerPatientId, 'DEVICES');
    this.leak('DeviceReading', v, o, id, d.allowed ? `recorded ${reading.recordedAt.toISOString()}, inside a DEVICES exception's period` : 'DEVICES not allowed');
  }

  checkConsent(v: Viewer, o: Observation): void {
    const id = String(o.obj.id);
    this.count(v, o, id);
    const consent = this.oracle.consents.get(id);
    if (!consent) return this.leak('Consent', v, o, id, 'unknown consent served');
    if (!this.oracle.consentVisible(v, consent)) this.leak('Consent', v, o, id, `consent of ${consent.patientId} served via ${o.via} without CONSENT`);
  }

  checkBreakGlassAccess(v: Viewer, o: Observation): void {
    const id = String(o.obj.id);
    this.count(v, o, id);
    const row = this.oracle.breakGlass.get(id);
    if (!row) return this.leak('BreakGlassAccess', v, o, id, 'unknown break-the-glass access served');
    if (!this.oracle.breakGlassVisible(v, row)) this.leak('BreakGlassAccess', v, o, id, 'neither compliance nor the clinician who opened it');
  }

  checkAuditEvent(v: Viewer, o: Observation): void {
    const id = String(o.obj.id);
    this.count(v, o, id);
    if (!this.oracle.events.has(id)) return this.leak('AuditEvent', v, o, id, 'an event the ledger does not hold');
    const patientId = this.oracle.events.get(id)!;
    if (!this.oracle.auditEventVisible(v, patientId)) this.leak('AuditEvent', v, o, id, `event about ${patientId ?? 'no patient'} without AUDIT`);
  }

  checkDisclosureReport(v: Viewer, o: Observation): void {
    const patientId = String(o.obj.patientId);
    this.count(v, o, patientId);
    // Compliance may ask about any id: for one that names nobody, there is nothing to disclose.
    if (!this.oracle.patients.has(patientId) && v.user.role === 'compliance' && Array.isArray(o.obj.lines) && o.obj.lines.length === 0) return;
    if (!this.oracle.allowed(v, patientId, 'AUDIT')) this.leak('DisclosureReport', v, o, patientId, 'disclosures served without AUDIT');
  }

  checkEnrolment(v: Viewer, o: Observation): void {
    const parent = o.ancestors[o.ancestors.length - 1];
    const projectId: string | undefined = o.obj.project?.id ?? (parent?.type === 'ResearchProject' ? parent.obj.id : undefined);
    if (!projectId) throw new Error(`an enrolment without its project at ${o.pathKey}`);
    const candidates = this.candidates(o, projectId, parent);
    const label = `${projectId}/${candidates.length === 1 ? candidates[0] : `${o.obj.enrolledAt}?`}`;
    this.count(v, o, label);
    if (candidates.length === 0) return this.leak('Enrolment', v, o, label, 'an enrolment the research database does not hold');
    // One verdict per candidate: a row that may not be seen at all is one leak; a row
    // that may be seen is judged by what it shows (pseudonym, patient).
    const verdicts = candidates.map((patientId): [string, string][] => {
      const e = { patientId, projectId };
      if (!this.oracle.enrolmentVisible(v, e)) {
        return [['Enrolment', v.user.role === 'researcher' && !this.oracle.isMember(v, projectId) ? 'a researcher outside the project' : 'not visible (research consent / project context)']];
      }
      const why: [string, string][] = [];
      if (o.obj.pseudonym !== null && o.obj.pseudonym !== undefined && !this.oracle.pseudonymAllowed(v, e)) why.push(['Enrolment.pseudonym', 'pseudonym shown outside project context']);
      if (o.obj.patient !== null && o.obj.patient !== undefined && !this.oracle.enrolmentPatientAllowed(v, e)) why.push(['Enrolment.patient', 'patient shown: not identified and no DEMOGRAPHICS']);
      return why;
    });
    if (verdicts.every((w) => w.length > 0)) {
      for (const [kind, why] of verdicts[0]!) this.leak(kind, v, o, label, why);
    } else if (verdicts.some((w) => w.length > 0)) {
      this.tally.ambiguous++;
    }
  }

  /** The project a ResearchSubject row belongs to: what it shows, its parent project's, or the root argument. */
  private subjectProject(subject: Record<string, any>, o: Observation): string {
    const project = [...o.ancestors].reverse().find((a) => a.type === 'ResearchProject');
    const id = subject.project?.id ?? project?.obj.id ?? o.args.projectId;
    if (typeof id !== 'string') throw new Error(`a research subject without its project at ${o.pathKey}`);
    return id;
  }

  checkResearchSubject(v: Viewer, o: Observation): void {
    const projectId = this.subjectProject(o.obj, o);
    const label = `${projectId}/${o.obj.pseudonym}`;
    this.count(v, o, label);
    const e = this.oracle.subject(projectId, String(o.obj.pseudonym));
    if (!e) return this.leak('ResearchSubject', v, o, label, 'a pseudonym that names no enrolment of the project');
    if (!this.oracle.subjectVisible(v, e)) {
      this.leak('ResearchSubject', v, o, label, e.status === 'WITHDRAWN' ? 'a withdrawn patient served as a subject' : v.projects.has(projectId) ? 'RESEARCH not allowed in project context' : 'served to a non-member');
    }
  }

  /** The enrolment behind the ResearchSubject a series row was reached through. */
  private seriesSubject(o: Observation): [string, ReturnType<Oracle['subject']>] {
    const parent = [...o.ancestors].reverse().find((a) => a.type === 'ResearchSubject');
    if (!parent) throw new Error(`a research series row without its subject at ${o.pathKey}`);
    const projectId = this.subjectProject(parent.obj, o);
    return [`${projectId}/${parent.obj.pseudonym}`, this.oracle.subject(projectId, String(parent.obj.pseudonym))];
  }

  checkResearchLabResult(v: Viewer, o: Observation): void {
    const [subject, e] = this.seriesSubject(o);
    const label = `${subject}/${o.obj.code?.code}@${o.obj.effectiveAt}`;
    this.count(v, o, label);
    if (!e) return this.leak('ResearchLabResult', v, o, label, 'a series of a subject the project does not have');
    const at = new Date(o.obj.effectiveAt).getTime();
    const rows = (this.oracle.labsByPatient.get(e.patientId) ?? []).filter((l) => l.loincCode === o.obj.code?.code && l.effectiveAt.getTime() === at && l.value === o.obj.value);
    if (rows.length === 0) return this.leak('ResearchLabResult', v, o, label, "not one of the subject's lab results");
    if (!rows.some((l) => this.oracle.seriesLabVisible(v, e, l))) this.leak('ResearchLabResult', v, o, label, 'LABS not allowed in project context, or excluded by an exception');
  }

  checkResearchReading(v: Viewer, o: Observation): void {
    const [subject, e] = this.seriesSubject(o);
    const label = `${subject}/${o.obj.metric}@${o.obj.recordedAt}`;
    this.count(v, o, label);
    if (!e) return this.leak('ResearchReading', v, o, label, 'a series of a subject the project does not have');
    const at = new Date(o.obj.recordedAt).getTime();
    const rows = this.oracle.readingsOfPatient(e.patientId).filter((r) => r.metric === o.obj.metric && r.recordedAt.getTime() === at && r.value === o.obj.value);
    if (rows.length === 0) return this.leak('ResearchReading', v, o, label, "not one of the subject's readings");
    if (!rows.some((r) => this.oracle.seriesReadingVisible(v, e, r))) this.leak('ResearchReading', v, o, label, 'DEVICES not allowed in project context, or inside an exception');
  }

  /** Which patient an enrolment row is: shown, the parent's, by pseudonym, or by date and status. */
  private candidates(o: Observation, projectId: string, parent: Observation['ancestors'][number] | undefined): string[] {
    if (o.obj.patient?.id) return [o.obj.patient.id];
    if (parent?.type === 'Patient') return [parent.obj.id];
    const byPseudonym = o.obj.pseudonym ? this.pseudonyms.get(o.obj.pseudonym) : undefined;
    if (byPseudonym) return [byPseudonym];
    const at = new Date(o.obj.enrolledAt).getTime();
    return this.oracle.enrolments.filter((e) => e.projectId === projectId && e.enrolledAt.getTime() === at && e.status === o.obj.status).map((e) => e.patientId);
  }

  checkCohortSummary(v: Viewer, o: Observation): void {
    const { projectId, loinc } = o.obj as { projectId: string; loinc: string };
    this.count(v, o, `${projectId}/${loinc}`);
    const stats = ['count', 'mean', 'min', 'max'].filter((f) => o.obj[f] !== null && o.obj[f] !== undefined);
    const expected = this.oracle.cohort(v, projectId, loinc);
    const label = `${projectId}/${loinc}`;
    if (!stats.length) return;
    if (!expected) return this.leak('CohortSummary', v, o, label, `served to a non-member (${stats.join(', ')})`);
    if (o.obj.suppressed === true) return this.leak('CohortSummary', v, o, label, 'suppressed, yet statistics served');
    const count = o.obj.count as number | null;
    if (count === null || count === undefined) return this.leak('CohortSummary', v, o, label, 'statistics without a count');
    if (expected.count < COHORT_MIN_SIZE) {
      return this.leak('CohortSummary.small-cell', v, o, label, `count ${count} served over ${expected.count} < ${COHORT_MIN_SIZE} patients (min ${o.obj.min}, max ${o.obj.max})`);
    }
    if (count > expected.count) return this.leak('CohortSummary', v, o, label, `counts ${count} patients, ${expected.count} may be counted`);
    // Histogram buckets: no small cell shown, none derivable as the count minus the shown ones.
    const buckets = (o.obj.distribution ?? []) as { count: number | null }[];
    const shown = buckets.reduce((sum, b) => sum + (b.count ?? 0), 0);
    if (buckets.some((b) => b.count !== null && b.count > 0 && b.count < COHORT_MIN_SIZE) || (buckets.length && count - shown > 0 && count - shown < COHORT_MIN_SIZE)) {
      return this.leak('CohortSummary.distribution', v, o, label, `a bucket under ${COHORT_MIN_SIZE} patients is shown or derivable (${buckets.map((b) => b.count).join(', ')})`);
    }
    if (count < expected.count) return void this.tally.underReported.push(`${v.name} ${label}: ${count} < ${expected.count}`);
    this.tally.unsuppressedCohorts++;
    const off = (a: unknown, b: number | null) => typeof a === 'number' && b !== null && Math.abs(a - b) > 1e-6 * Math.max(1, Math.abs(b));
    if (off(o.obj.mean, expected.mean) || off(o.obj.min, expected.min) || off(o.obj.max, expected.max)) {
      this.leak('CohortSummary', v, o, label, `the right count over other patients: mean ${o.obj.mean} vs ${expected.mean}`);
    }
  }

  /** totalCount never counts a row the viewer may not see. */
  total(v: Viewer, t: ConnectionTotal): void {
    const o = this.oracle;
    const parentId = t.parent?.obj.id as string | undefined;
    let visible: number | null = null;
    if (t.via === 'Patient.labResults' && parentId) visible = (o.labsByPatient.get(parentId) ?? []).filter((l) => o.labVisible(v, l)).length;
    else if (t.via === 'Device.readings' && parentId) visible = (o.readingsByDevice.get(parentId) ?? []).filter((r) => o.readingVisible(v, r)).length;
    else if (t.via === 'ResearchProject.enrolments' && parentId) visible = o.enrolments.filter((e) => e.projectId === parentId && o.enrolmentVisible(v, e)).length;
    else if (t.via === 'Query.patients') visible = [...o.patients.keys()].filter((p) => o.patientVisible(v, p)).length;
    else if (t.via === 'Query.researchProjects') return;
    else if (t.via === 'ResearchProject.subjects' && parentId) visible = o.enrolments.filter((e) => e.projectId === parentId && o.subjectVisible(v, e)).length;
    else if ((t.via === 'ResearchSubject.labResults' || t.via === 'ResearchSubject.readings') && t.parent) {
      const project = [...t.ancestors].reverse().find((a) => a.type === 'ResearchProject');
      const e = o.subject(t.parent.obj.project?.id ?? project?.obj.id ?? t.args.projectId, t.parent.obj.pseudonym);
      visible = !e ? 0 : t.via === 'ResearchSubject.labResults'
        ? (o.labsByPatient.get(e.patientId) ?? []).filter((l) => o.seriesLabVisible(v, e, l)).length
        : o.readingsOfPatient(e.patientId).filter((r) => o.seriesReadingVisible(v, e, r)).length;
    }
    if (visible === null) return void this.tally.uncheckedTotals.add(t.via);
    if (t.totalCount > visible) this.leak(`${t.via}.totalCount`, v, t, parentId ?? '-', `totalCount ${t.totalCount}, ${visible} visible`);
  }

  /** Errors name no patient the viewer did not send and may not see. */
  errors(v: Viewer, errors: readonly GraphQLFormattedError[] | undefined, sent: unknown, pathKey: string): void {
    if (!errors?.length) return;
    const given = new Set(JSON.stringify(sent ?? {}).match(PATIENT_ID) ?? []);
    for (const e of errors) {
      const code = String(e.extensions?.code ?? 'NONE');
      this.tally.errorCodes.set(code, (this.tally.errorCodes.get(code) ?? 0) + 1);
      if (!EXPECTED_CODES.has(code) && this.tally.unexpected.length < 10) this.tally.unexpected.push(`${v.name} ${pathKey}: ${code} ${e.message} at ${JSON.stringify(e.path)}`);
      const text = JSON.stringify({ message: e.message, extensions: e.extensions ?? {} });
      if ((e.extensions as Record<string, unknown> | undefined)?.patientId) this.tally.errorsWithPatientId++;
      for (const id of new Set(text.match(PATIENT_ID) ?? [])) {
        if (given.has(id) || this.oracle.patientVisible(v, id) || this.oracle.allowed(v, id, 'AUDIT')) continue;
        this.leaks.push({ kind: 'error.patientId', viewer: v.name, path: pathKey, row: id, why: `an error names a patient the caller may not see: ${e.message}` });
      }
    }
  }
}
