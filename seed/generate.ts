/**
 * Deterministic synthetic data. The same `--seed` always yields the same world, byte
 * for byte: every random choice comes from one seeded faker instance, consumed in a
 * fixed order, and every instant is relative to a fixed anchor date, not the clock.
 *
 * Patients are produced in chunks so that 100,000 of them never sit in memory at once.
 */
import { Faker, en } from '@faker-js/faker';
import { deviceKeyFromSeed, rawPublicKey } from '../common/device-signature';
import type { Role } from '../common/signed-identity';
import { LOINC_BY_CODE } from '../common/loinc';
import type { Device, DeviceReading } from '../subgraphs/devices/entities';
import { METRICS, METRICS_BY_KIND, type DeviceKind } from '../subgraphs/devices/metrics';
import type { LabResult, Interpretation, ResultStatus } from '../subgraphs/labs/entities';
import type { Institution, Patient, PatientIdentifier, Practitioner, AdministrativeSex } from '../subgraphs/patients/entities';
import type { Enrolment, ResearchProject } from '../subgraphs/research/entities';
import type { Consent, ConsentVersion, PatientHome, ProjectMember } from '../consent/entities';
import { INSTITUTIONS, LAB_PROFILES, PROJECTS } from './catalog';

/** All seeded instants lie before this one. */
export const ANCHOR = new Date('2026-11-01T00:00:00.000Z');
const DAY = 86_400_000;
const DEVICE_MODELS: Record<DeviceKind, string> = { SMARTWATCH: 'Pulse Band 3', CGM: 'GlucoTrack G7', PULSE_OXIMETER: 'OxiClip 2' };

/** What raises a patient's lab values and readings, and which cohorts they may join. */
interface Risks {
  diabetic: boolean;
  renal: boolean;
}

/** A sign-in account (the gateway's `app_user`), without passkeys: tokens are minted by the CLI. */
export interface SeedUser {
  id: string;
  username: string;
  role: Role;
  institutionId: string | null;
  patientId: string | null;
  practitionerId: string | null;
  createdAt: Date;
}

/** A seeded device's private key seed (32 bytes, hex): development data, kept in .data/ only. */
export interface SeedDeviceKey {
  deviceId: string;
  seed: string;
}

export interface Directory {
  institutions: Institution[];
  practitioners: Practitioner[];
  projects: ResearchProject[];
  users: SeedUser[];
  members: ProjectMember[];
}

export interface PatientChunk {
  patients: Patient[];
  identifiers: PatientIdentifier[];
  labResults: LabResult[];
  devices: Device[];
  deviceKeys: SeedDeviceKey[];
  readings: DeviceReading[];
  enrolments: Enrolment[];
  users: SeedUser[];
  homes: PatientHome[];
  consents: Consent[];
  consentVersions: ConsentVersion[];
}

export interface SeedOptions {
  patients: number;
  seed: number;
  chunkSize?: number;
}

export class SeedGenerator {
  private readonly faker: Faker;
  readonly directory: Directory;
  private readonly usernames = new Set<string>();

  constructor(private readonly options: SeedOptions) {
    this.faker = new Faker({ locale: [en], seed: options.seed });
    this.directory = this.buildDirectory();
  }

  private id(prefix: string): string {
    return `${prefix}_${this.faker.string.hexadecimal({ length: 20, casing: 'lower', prefix: '' })}`;
  }

  /** `given.family`, ASCII, lower-case; a number appended when taken. */
  private username(given: string, family: string): string {
    const ascii = (s: string) => s.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]/g, '');
    const base = `${ascii(given)}.${ascii(family)}`.slice(0, 56);
    let name = base;
    for (let n = 2; this.usernames.has(name); n++) name = `${base}${n}`;
    this.usernames.add(name);
    return name;
  }

  private user(role: Role, username: string, refs: Partial<Pick<SeedUser, 'institutionId' | 'patientId' | 'practitionerId'>>): SeedUser {
    return {
      id: this.id('usr'),
      username,
      role,
      institutionId: refs.institutionId ?? null,
      patientId: refs.patientId ?? null,
      practitionerId: refs.practitionerId ?? null,
      createdAt: ANCHOR,
    };
  }

  private buildDirectory(): Directory {
    const f = this.faker;
    const institutions: Institution[] = INSTITUTIONS.map((i) => ({ id: this.id('inst'), name: i.name, kind: i.kind, country: i.country }));
    const byKey = new Map(INSTITUTIONS.map((seed, n) => [seed.key, institutions[n]!]));
    const practitioners: Practitioner[] = [];
    INSTITUTIONS.forEach((seed, n) => {
      const add = (role: Practitioner['role']) =>
        practitioners.push({
          id: this.id('prac'),
          institutionId: institutions[n]!.id,
          givenName: f.person.firstName(),
          familyName: f.person.lastName(),
          role,
        });
      for (let c = 0; c < seed.clinicians; c++) add('CLINICIAN');
      for (let r = 0; r < seed.researchers; r++) add('RESEARCHER');
    });
    // One compliance officer for the hub, at the first hospital.
    practitioners.push({
      id: this.id('prac'),
      institutionId: institutions[0]!.id,
      givenName: f.person.firstName(),
      familyName: f.person.lastName(),
      role: 'COMPLIANCE_OFFICER',
    });
    const projects: ResearchProject[] = PROJECTS.map((p) => {
      const institution = byKey.get(p.institution)!;
      const researchers = practitioners.filter((x) => x.role === 'RESEARCHER' && x.institutionId === institution.id);
      return {
        id: this.id('proj'),
        title: p.title,
        purpose: p.purpose,
        status: p.status,
        institutionId: institution.id,
        principalInvestigatorId: f.helpers.arrayElement(researchers).id,
      };
    });
    this.usernames.add('admin');
    const roleOf = { CLINICIAN: 'clinician', RESEARCHER: 'researcher', COMPLIANCE_OFFICER: 'compliance' } as const;
    const users = [
      this.user('admin', 'admin', {}),
      ...practitioners.map((p) =>
        this.user(roleOf[p.role], this.username(p.givenName, p.familyName), { institutionId: p.institutionId, practitionerId: p.id }),
      ),
    ];
    // A project's team: its investigator and the other researchers of its institution.
    const members: ProjectMember[] = projects.flatMap((p) =>
      practitioners.filter((x) => x.role === 'RESEARCHER' && x.institutionId === p.institutionId).map((x) => ({ projectId: p.id, practitionerId: x.id })),
    );
    return { institutions, practitioners, projects, users, members };
  }

  /** Patients in chunks; the concatenation does not depend on the chunk size. */
  *chunks(): Generator<PatientChunk> {
    const size = this.options.chunkSize ?? 500;
    for (let start = 0; start < this.options.patients; start += size) {
      const chunk: PatientChunk = { patients: [], identifiers: [], labResults: [], devices: [], deviceKeys: [], readings: [], enrolments: [], users: [], homes: [], consents: [], consentVersions: [] };
      const end = Math.min(this.options.patients, start + size);
      for (let n = start; n < end; n++) this.addPatient(chunk, n);
      yield chunk;
    }
  }

  private normal(mean: number, sd: number): number {
    // Box-Muller over the seeded source.
    const u = 1 - this.faker.number.float({ min: 0, max: 1 });
    const v = this.faker.number.float({ min: 0, max: 1 });
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** One patient and everything about them, in the order the random source is consumed. */
  private addPatient(out: PatientChunk, n: number): void {
    const patient = this.addDemographics(out, n);
    const risks: Risks = {
      diabetic: this.faker.datatype.boolean({ probability: 0.15 }),
      renal: this.faker.datatype.boolean({ probability: 0.08 }),
    };
    this.addLabResults(out, patient, risks);
    for (const kind of this.deviceKinds(risks)) this.addDevice(out, patient, kind, risks);
    this.addConsentsAndEnrolments(out, patient, risks);
  }

  /** The patient at a hospital, with their home, their sign-in account and their record number. */
  private addDemographics(out: PatientChunk, n: number): Patient {
    const f = this.faker;
    const hospitals = this.directory.institutions.filter((i) => i.kind === 'HOSPITAL');
    const institution = f.helpers.arrayElement(hospitals);
    const sex = f.helpers.weightedArrayElement<AdministrativeSex>([
      { value: 'FEMALE', weight: 50 },
      { value: 'MALE', weight: 48 },
      { value: 'OTHER', weight: 1 },
      { value: 'UNKNOWN', weight: 1 },
    ]);
    const birth = new Date(ANCHOR.getTime() - f.number.int({ min: 18 * 365, max: 92 * 365 }) * DAY);
    const patient: Patient = {
      id: this.id('pat'),
      institutionId: institution.id,
      givenName: f.person.firstName(sex === 'FEMALE' ? 'female' : sex === 'MALE' ? 'male' : undefined),
      familyName: f.person.lastName(),
      birthDate: birth.toISOString().slice(0, 10),
      sex,
    };
    out.patients.push(patient);
    out.homes.push({ patientId: patient.id, institutionId: institution.id });
    out.users.push(this.user('patient', this.username(patient.givenName, patient.familyName), { institutionId: institution.id, patientId: patient.id }));
    out.identifiers.push({
      id: this.id('pid'),
      patientId: patient.id,
      system: `urn:custodian:mrn:${institution.id}`,
      value: `MRN-${String(100000 + n).padStart(7, '0')}`,
    });
    return patient;
  }

  /** One to three results per test of the panel, drawn around the healthy or the at-risk mean. */
  private addLabResults(out: PatientChunk, patient: Patient, risks: Risks): void {
    const f = this.faker;
    const lab = this.directory.institutions.find((i) => i.kind === 'LABORATORY')!;
    for (const [code, profile] of Object.entries(LAB_PROFILES)) {
      const test = LOINC_BY_CODE.get(code)!;
      const atRisk = (code === '4548-4' || code === '2345-7') ? risks.diabetic : code === '2160-0' ? risks.renal : false;
      const [mean, sd] = atRisk ? profile.atRisk : profile.healthy;
      const results = f.number.int({ min: 1, max: 3 });
      for (let k = 0; k < results; k++) {
        const value = Number(Math.max(0.01, this.normal(mean, sd)).toFixed(profile.decimals));
        out.labResults.push({
          id: this.id('lab'),
          patientId: patient.id,
          loincCode: test.code,
          loincDisplay: test.display,
          value,
          unit: test.unit,
          referenceLow: test.low,
          referenceHigh: test.high,
          interpretation: interpret(value, test.low, test.high),
          status: f.helpers.weightedArrayElement<ResultStatus>([
            { value: 'FINAL', weight: 92 },
            { value: 'AMENDED', weight: 3 },
            { value: 'PRELIMINARY', weight: 4 },
            { value: 'CANCELLED', weight: 1 },
          ]),
          effectiveAt: new Date(ANCHOR.getTime() - f.number.int({ min: 1, max: 3 * 365 }) * DAY - f.number.int({ min: 0, max: DAY - 1 })),
          issuerId: f.datatype.boolean({ probability: 0.6 }) ? lab.id : patient.institutionId,
        });
      }
    }
  }

  /** Which devices the patient wears: a watch for many, a glucose monitor for half the diabetics. */
  private deviceKinds(risks: Risks): DeviceKind[] {
    const f = this.faker;
    const kinds: DeviceKind[] = [];
    if (f.datatype.boolean({ probability: 0.45 })) kinds.push('SMARTWATCH');
    if (risks.diabetic && f.datatype.boolean({ probability: 0.5 })) kinds.push('CGM');
    if (f.datatype.boolean({ probability: 0.04 })) kinds.push('PULSE_OXIMETER');
    return kinds;
  }

  /** A device with its signing key, and its last twelve readings of each metric it reports. */
  private addDevice(out: PatientChunk, patient: Patient, kind: DeviceKind, risks: Risks): void {
    const f = this.faker;
    const keySeed = f.string.hexadecimal({ length: 64, casing: 'lower', prefix: '' });
    const device: Device = {
      id: this.id('dev'),
      kind,
      model: DEVICE_MODELS[kind],
      serial: `${kind.slice(0, 2)}-${f.string.alphanumeric({ length: 10, casing: 'upper' })}`,
      ownerPatientId: patient.id,
      publicKey: rawPublicKey(deviceKeyFromSeed(Buffer.from(keySeed, 'hex'))),
      lastSequence: 0,
    };
    out.devices.push(device);
    out.deviceKeys.push({ deviceId: device.id, seed: keySeed });
    const last = ANCHOR.getTime() - f.number.int({ min: 0, max: 7 }) * DAY;
    for (const metric of METRICS_BY_KIND[kind]) {
      const [mean, sd] = metric === 'HEART_RATE' ? [72, 9] : metric === 'SPO2' ? [97, 1.2] : risks.diabetic ? [165, 40] : [100, 15];
      const spec = METRICS[metric];
      for (let k = 0; k < 12; k++) {
        out.readings.push({
          id: this.id('rdg'),
          deviceId: device.id,
          metric,
          value: Math.round(Math.min(spec.max, Math.max(spec.min, this.normal(mean, sd)))),
          unit: spec.unit,
          recordedAt: new Date(last - k * (metric === 'GLUCOSE' ? 15 : 60) * 60_000),
        });
      }
    }
  }

  /**
   * The patient's consents and research enrolments: rarely, a refusal to their own
   * hospital's clinicians; then an enrolment in each eligible project they join. A
   * patient with any consent has policy version 1.
   */
  private addConsentsAndEnrolments(out: PatientChunk, patient: Patient, risks: Risks): void {
    const f = this.faker;
    const consentsBefore = out.consents.length;
    // A few patients keep their lab results from their own hospital's clinicians.
    if (f.datatype.boolean({ probability: 0.01 })) {
      out.consents.push(this.consent(patient, { granteeKind: 'role', granteeId: `clinician@${patient.institutionId}`, categories: 'LABS', purposes: 'TREATMENT', effect: 'deny' }));
    }
    PROJECTS.forEach((p, i) => {
      const eligible =
        p.cohort === 'everyone' || (p.cohort === 'diabetic' && risks.diabetic) || (p.cohort === 'renal' && risks.renal);
      if (!eligible || !f.datatype.boolean({ probability: p.enrolProbability })) return;
      this.addEnrolment(out, patient, this.directory.projects[i]!);
    });
    if (out.consents.length > consentsBefore) out.consentVersions.push({ patientId: patient.id, version: 1 });
  }

  private addEnrolment(out: PatientChunk, patient: Patient, project: ResearchProject): void {
    const f = this.faker;
    // Most enrolled patients consent to the project's research use of their labs; some
    // allow identified data; some exclude their blood counts.
    if (f.datatype.boolean({ probability: 0.8 })) {
      const permit = this.consent(patient, {
        granteeKind: 'project',
        granteeId: project.id,
        categories: 'LABS|RESEARCH',
        purposes: 'RESEARCH',
        effect: 'permit',
        identified: f.datatype.boolean({ probability: 0.2 }),
      });
      out.consents.push(permit);
      if (f.datatype.boolean({ probability: 0.1 })) {
        out.consents.push(this.consent(patient, { granteeKind: 'project', granteeId: permit.granteeId, parentId: permit.id, categories: 'LABS', purposes: 'RESEARCH', effect: 'deny', dataLoincClass: 'HEM/BC' }));
      }
    }
    out.enrolments.push({
      id: this.id('enr'),
      projectId: project.id,
      patientId: patient.id,
      enrolledAt: new Date(ANCHOR.getTime() - f.number.int({ min: 1, max: 400 }) * DAY),
      status: f.helpers.weightedArrayElement([
        { value: 'ACTIVE' as const, weight: 90 },
        { value: 'WITHDRAWN' as const, weight: 7 },
        { value: 'COMPLETED' as const, weight: 3 },
      ]),
    });
  }

  /**
   * A read consent given by the patient 400 days before the anchor. Its id is drawn after
   * the caller's fields (any random ones among them): the seeded order depends on it.
   */
  private consent(patient: Patient, fields: Partial<Consent> & Pick<Consent, 'granteeKind' | 'granteeId' | 'categories' | 'purposes' | 'effect'>): Consent {
    return {
      id: this.id('cns'),
      patientId: patient.id,
      parentId: null,
      actions: 'read',
      validFrom: new Date(ANCHOR.getTime() - 400 * DAY),
      validUntil: null,
      dataLoincClass: null,
      dataFrom: null,
      dataUntil: null,
      identified: false,
      status: 'active',
      createdAt: new Date(ANCHOR.getTime() - 400 * DAY),
      createdBy: patient.id,
      revokedAt: null,
      ...fields,
    };
  }
}

export function interpret(value: number, low: number | null, high: number | null): Interpretation {
  if (low != null && value < low * 0.7) return 'CRITICALLY_LOW';
  if (high != null && value > high * 1.5) return 'CRITICALLY_HIGH';
  if (low != null && value < low) return 'LOW';
  if (high != null && value > high) return 'HIGH';
  return 'NORMAL';
}
