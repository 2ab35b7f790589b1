/**
 * The leak test's world: a small seeded hub (seed/write.ts), then consents drawn from a
 * seeded PRNG and written through the product's own `grantConsent` / `revokeConsent`
 * (consent/consents.ts) — so every one of them is a consent the API would accept —
 * covering grants to practitioners, roles and projects; exceptions of every kind the
 * contract supports (LABS: LOINC class and/or dates; DEVICES: dates); denials; expired,
 * future and bounded consents; and revocations. One research project gets enough extra
 * members (enrolment rows, as the seed writes them) for its cohorts to pass the
 * small-cell threshold, so that aggregates are seen both withheld and served.
 */
import type { DataSource } from 'typeorm';
import type { Env } from '../../../common/config';
import { openDatabase } from '../../../common/database';
import { PURPOSES, type Purpose } from '../../../common/signed-identity';
import { LOINC_CLASSES } from '../../../common/loinc';
import { IDENTITY_DATABASE } from '../../../gateway/identity/database';
import { User } from '../../../gateway/identity/entities';
import { grantConsent, revokeConsent, type ExceptionInput, type GrantInput } from '../../../consent/consents';
import { openConsentDatabase } from '../../../consent/database';
import { ProjectMember } from '../../../consent/entities';
import { GRANTABLE, type Category } from '../../../consent/vocabulary';
import { ANCHOR } from '../../../seed/generate';
import { seed } from '../../../seed/write';
import { SUBGRAPHS } from '../../../subgraphs';
import { databaseSpec } from '../../../subgraphs/kit/server';
import { Institution, Patient } from '../../../subgraphs/patients/entities';
import { Enrolment, ResearchProject } from '../../../subgraphs/research/entities';
import { Device } from '../../../subgraphs/devices/entities';
import { Prng } from './prng';

const DAY = 86_400_000;

export interface Cast {
  /** Clinician at the first hospital: TREATMENT, EMERGENCY (breaks the glass) and OPERATIONS. */
  clinician: User;
  /** Clinician at another hospital: sees only what consents give them. */
  outsider: User;
  /** Researcher on the project with the large cohort. */
  researcher: User;
  /** Researcher on another project (another institution). */
  otherResearcher: User;
  compliance: User;
  admin: User;
  /** Two patients with data of every kind, as viewers of their own records. */
  patients: User[];
}

export interface WorldSummary {
  seed: number;
  patients: number;
  consents: Record<string, number>;
  extraEnrolments: number;
  cohortProjectId: string;
  cast: Cast;
}

interface Dbs {
  identity: DataSource;
  consent: DataSource;
  patients: DataSource;
  research: DataSource;
  devices: DataSource;
}

async function open(env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'>): Promise<Dbs> {
  const [identity, consent, patients, research, devices] = await Promise.all([
    openDatabase(IDENTITY_DATABASE, env),
    openConsentDatabase(env),
    openDatabase(databaseSpec(SUBGRAPHS.patients), env),
    openDatabase(databaseSpec(SUBGRAPHS.research), env),
    openDatabase(databaseSpec(SUBGRAPHS.devices), env),
  ]);
  return { identity, consent, patients, research, devices };
}

export async function buildWorld(env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'>, options: { patients: number; seed: number }): Promise<WorldSummary> {
  await seed({ patients: options.patients, seed: options.seed }, env);
  const rng = new Prng(options.seed);
  const dbs = await open(env);
  try {
    return await randomise(dbs, rng, options);
  } finally {
    await Promise.all(Object.values(dbs).map((db) => db.destroy()));
  }
}

async function randomise(dbs: Dbs, rng: Prng, options: { patients: number; seed: number }): Promise<WorldSummary> {
  const users = await dbs.identity.getRepository(User).find({ order: { username: 'ASC' } });
  const institutions = await dbs.patients.getRepository(Institution).find({ order: { id: 'ASC' } });
  const hospitals = institutions.filter((i) => i.kind === 'HOSPITAL');
  const projects = await dbs.research.getRepository(ResearchProject).find({ order: { id: 'ASC' } });
  const members = await dbs.consent.getRepository(ProjectMember).find();
  const patients = await dbs.patients.getRepository(Patient).find({ order: { id: 'ASC' } });
  const clinicians = users.filter((u) => u.role === 'clinician');
  const researchers = users.filter((u) => u.role === 'researcher');
  const projectsOf = (u: User) => members.filter((m) => m.practitionerId === u.practitionerId).map((m) => m.projectId);

  const h1 = hospitals[0]!;
  const h2 = hospitals[1]!;
  const clinician = clinicians.find((u) => u.institutionId === h1.id)!;
  const outsider = clinicians.find((u) => u.institutionId === h2.id)!;
  // The researcher whose project gets the large cohort, and one on another project.
  const researcher = researchers.find((u) => projectsOf(u).length > 0)!;
  const cohortProjectId = projectsOf(researcher)[0]!;
  const otherResearcher = researchers.find((u) => projectsOf(u).length > 0 && !projectsOf(u).includes(cohortProjectId))!;
  const compliance = users.find((u) => u.role === 'compliance')!;
  const admin = users.find((u) => u.role === 'admin')!;

  // Enough consenting members in one project for a cohort of at least COHORT_MIN_SIZE (10).
  const enrolled = new Set((await dbs.research.getRepository(Enrolment).findBy({ projectId: cohortProjectId })).map((e) => e.patientId));
  const joining = rng.sample(patients.filter((p) => !enrolled.has(p.id)), 14);
  await dbs.research.getRepository(Enrolment).insert(
    joining.map((p) => ({
      id: `enr_${rng.hex(20)}`,
      projectId: cohortProjectId,
      patientId: p.id,
      enrolledAt: new Date(ANCHOR.getTime() - rng.int(1, 300) * DAY - rng.int(0, DAY - 1)),
      status: 'ACTIVE' as const,
    })),
  );

  const counts: Record<string, number> = {};
  const count = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
  const now = Date.now();
  const actorOf = new Map(users.filter((u) => u.patientId).map((u) => [u.patientId!, u.id]));
  const granted: { patientId: string; id: string }[] = [];

  async function grant(input: GrantInput, at = new Date()): Promise<void> {
    const { consent } = await grantConsent(dbs.consent, input, actorOf.get(input.patientId)!, at);
    granted.push({ patientId: input.patientId, id: consent.id });
    count(`grant:${input.grantee.kind}`);
    count(input.effect);
    if (input.exceptions?.length) count('with exceptions');
  }

  // The joining members consent to the project's research use of their labs: most of
  // them, a few identified, a few with exceptions (a LOINC class, or a period). Half give
  // their devices' readings too, every other one of those without the last two days
  // (chosen by position, not drawn: the rest of the world stays as the seed makes it).
  for (const [i, p] of joining.slice(0, 12).entries()) {
    const exceptions: ExceptionInput[] = [];
    if (rng.chance(0.2)) exceptions.push({ categories: ['LABS'], loincClass: 'HEM/BC' });
    if (rng.chance(0.1)) exceptions.push({ categories: ['LABS'], dataFrom: new Date(ANCHOR.getTime() - 200 * DAY) });
    const devices = i % 2 === 0;
    if (i % 4 === 0) exceptions.push({ categories: ['DEVICES'], dataFrom: new Date(ANCHOR.getTime() - 2 * DAY) });
    await grant({
      patientId: p.id,
      grantee: { kind: 'project', id: cohortProjectId },
      categories: devices ? ['LABS', 'RESEARCH', 'DEVICES'] : ['LABS', 'RESEARCH'],
      actions: ['read'],
      purposes: ['RESEARCH'],
      effect: 'permit',
      identified: rng.chance(0.25),
      exceptions,
    });
  }

  const practitionerGrantees = [clinician, outsider, researcher, otherResearcher, ...rng.sample(clinicians, 2)].map((u) => u.practitionerId!);
  const roleGrantees = [
    ...hospitals.map((h) => `clinician@${h.id}`),
    `researcher@${researcher.institutionId}`,
    `researcher@${otherResearcher.institutionId}`,
  ];
  const labDate = () => new Date(ANCHOR.getTime() - rng.int(0, 3 * 365) * DAY);
  const readingDate = () => new Date(ANCHOR.getTime() - rng.int(0, 8 * 24) * 3_600_000);

  for (const p of patients) {
    const n = rng.pick([0, 1, 1, 2, 2, 3]);
    for (let k = 0; k < n; k++) {
      const kind = rng.pick(['practitioner', 'practitioner', 'role', 'project'] as const);
      const grantee = kind === 'practitioner' ? rng.pick(practitionerGrantees) : kind === 'role' ? rng.pick(roleGrantees) : rng.pick(projects).id;
      const categories = rng.subset(GRANTABLE) as Category[];
      // Mostly purposes the grantee can claim (so that most consents are in play), not only.
      const forClinician = (kind === 'practitioner' && clinicians.some((u) => u.practitionerId === grantee)) || (kind === 'role' && grantee.startsWith('clinician@'));
      const fitting: Purpose[] = forClinician ? ['TREATMENT', 'EMERGENCY', 'OPERATIONS'] : ['RESEARCH'];
      const purposes = (rng.chance(0.8) ? rng.subset(fitting, 0.4) : rng.subset(PURPOSES, 0.4)) as Purpose[];
      const effect = rng.chance(0.2) ? 'deny' : 'permit';
      const exceptions: ExceptionInput[] = [];
      // Exceptions only where the contract enforces them, and only inside a permission.
      if (effect === 'permit' && categories.includes('LABS') && rng.chance(0.6)) {
        const shape = rng.int(0, 3);
        const from = labDate();
        exceptions.push({
          categories: ['LABS'],
          ...(shape === 0 || shape === 3 ? { loincClass: rng.pick(LOINC_CLASSES) } : {}),
          ...(shape === 1 || shape === 3 ? { dataFrom: from } : {}),
          ...(shape === 2 || shape === 3 ? { dataUntil: new Date(from.getTime() + rng.int(30, 400) * DAY) } : {}),
        });
        count(`exception:LABS:${['class', 'from', 'until', 'class+period'][shape]}`);
      }
      if (effect === 'permit' && categories.includes('DEVICES') && rng.chance(0.6)) {
        const shape = rng.int(0, 2);
        const from = readingDate();
        exceptions.push({
          categories: ['DEVICES'],
          ...(shape !== 1 ? { dataFrom: from } : {}),
          ...(shape !== 0 ? { dataUntil: new Date(from.getTime() + rng.int(2, 72) * 3_600_000) } : {}),
        });
        count(`exception:DEVICES:${['from', 'until', 'period'][shape]}`);
      }
      const validity = rng.pick(['open', 'open', 'open', 'open', 'open', 'expired', 'future', 'bounded'] as const);
      count(`validity:${validity}`);
      const input: GrantInput = {
        patientId: p.id,
        grantee: { kind, id: grantee },
        categories,
        actions: ['read'],
        purposes,
        effect,
        // A project may have DEMOGRAPHICS only as identified data (grantConsent refuses otherwise).
        identified: kind === 'project' && effect === 'permit' && (rng.chance(0.3) || categories.includes('DEMOGRAPHICS')),
        exceptions,
        ...(validity === 'future' ? { validFrom: new Date(now + rng.int(2, 30) * DAY) } : {}),
        ...(validity === 'bounded' ? { validUntil: new Date(now + rng.int(2, 30) * DAY) } : {}),
      };
      if (validity === 'expired') {
        // Granted in the past for a period that has ended: grantConsent's own clock is set back.
        const then = new Date(now - rng.int(20, 60) * DAY);
        await grant({ ...input, validUntil: new Date(then.getTime() + rng.int(2, 15) * DAY) }, then);
      } else {
        await grant(input);
      }
    }
  }

  // Some consents are revoked again (with their exceptions).
  for (const g of granted) {
    if (!rng.chance(0.15)) continue;
    await revokeConsent(dbs.consent, g.patientId, g.id, actorOf.get(g.patientId)!);
    count('revoked');
  }

  // Viewers among the patients: those with the most kinds of data (devices and enrolments).
  const enrolledAny = new Set((await dbs.research.getRepository(Enrolment).find()).map((e) => e.patientId));
  const withDevices = new Set((await dbs.devices.getRepository(Device).find()).map((d) => d.ownerPatientId));
  const rich = users.filter((u) => u.role === 'patient' && enrolledAny.has(u.patientId!) && withDevices.has(u.patientId!));
  const viewers = [...rich, ...users.filter((u) => u.role === 'patient' && !rich.includes(u))].slice(0, 2);

  return {
    seed: options.seed,
    patients: patients.length,
    consents: counts,
    extraEnrolments: joining.length,
    cohortProjectId,
    cast: { clinician, outsider, researcher, otherResearcher, compliance, admin, patients: viewers },
  };
}
