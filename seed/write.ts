/**
 * Writes a generated world into each subgraph's own database (running its migrations
 * first), replacing what was there. Each chunk of patients is one transaction per
 * database, inserted as multi-row INSERTs sized under SQLite's bind-parameter limit.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { Env, SubgraphName } from '../common/config';
import { openDatabase } from '../common/database';
import { IDENTITY_DATABASE } from '../gateway/identity/database';
import { CONSENT_DATABASE } from '../consent/database';
import { Consent, ConsentVersion, PatientHome, ProjectMember } from '../consent/entities';
import { databaseSpec } from '../subgraphs/kit/server';
import { User } from '../gateway/identity/entities';
import { SUBGRAPHS } from '../subgraphs';
import { Device, DeviceReading } from '../subgraphs/devices/entities';
import { LabResult } from '../subgraphs/labs/entities';
import { Institution, Patient, PatientIdentifier, Practitioner } from '../subgraphs/patients/entities';
import { Enrolment, ResearchProject } from '../subgraphs/research/entities';
import { SeedGenerator, type SeedDeviceKey, type SeedOptions } from './generate';

/** Where the seeded devices' private keys go: development data, never committed. */
export const deviceKeysPath = (dataDir: string) => path.join(dataDir, 'device-keys.json');

export interface SeedSummary {
  patients: number;
  rows: number;
  seconds: number;
  counts: Record<string, number>;
}

type Store = SubgraphName | 'identity' | 'consent';

/** Tables in the order they can be emptied (children first). */
const TABLES: Record<Store, string[]> = {
  identity: ['outbox', 'api_token', 'session', 'passkey', 'webauthn_challenge', 'enrolment_code', 'app_user'],
  consent: ['outbox', 'consent', 'consent_version', 'project_member', 'patient_home', 'break_glass'],
  // Outboxes go too: they describe the data being replaced.
  patients: ['outbox', 'patient_identifier', 'patient', 'practitioner', 'institution'],
  labs: ['outbox', 'lab_result'],
  devices: ['outbox', 'device_reading', 'device'],
  research: ['outbox', 'enrolment', 'research_project'],
  audit: ['outbox'],
};

async function insertAll<T extends ObjectLiteral>(db: DataSource, entity: EntityTarget<T>, rows: T[], columns: number): Promise<void> {
  if (rows.length === 0) return;
  // SQLite allows 32,766 bind parameters per statement; keep each INSERT well under.
  const perStatement = Math.max(1, Math.floor(16_000 / columns));
  await db.transaction(async (tx) => {
    for (let i = 0; i < rows.length; i += perStatement) {
      await tx.createQueryBuilder().insert().into(entity).values(rows.slice(i, i + perStatement)).execute();
    }
  });
}

export async function openAll(env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'>): Promise<Record<Store, DataSource>> {
  const specs = [...Object.values(SUBGRAPHS).map(databaseSpec), IDENTITY_DATABASE, CONSENT_DATABASE];
  const entries = await Promise.all(specs.map(async (spec) => [spec.name, await openDatabase(spec, env)] as const));
  return Object.fromEntries(entries) as Record<Store, DataSource>;
}

export async function seed(
  options: SeedOptions,
  env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'>,
  progress: (done: number, total: number) => void = () => {},
): Promise<SeedSummary> {
  const started = performance.now();
  const dbs = await openAll(env);
  const counts: Record<string, number> = {};
  const count = (name: string, n: number) => (counts[name] = (counts[name] ?? 0) + n);
  try {
    for (const [name, tables] of Object.entries(TABLES) as [Store, string[]][]) {
      await dbs[name].transaction(async (tx) => {
        for (const table of tables) await tx.query(`DELETE FROM ${table}`);
      });
    }
    const gen = new SeedGenerator(options);
    const { institutions, practitioners, projects, users, members } = gen.directory;
    await insertAll(dbs.identity, User, users, 7);
    await insertAll(dbs.consent, ProjectMember, members, 2);
    await insertAll(dbs.patients, Institution, institutions, 4);
    await insertAll(dbs.patients, Practitioner, practitioners, 5);
    await insertAll(dbs.research, ResearchProject, projects, 6);
    count('institutions', institutions.length);
    count('practitioners', practitioners.length);
    count('researchProjects', projects.length);
    count('users', users.length);
    const deviceKeys: SeedDeviceKey[] = [];

    let done = 0;
    for (const chunk of gen.chunks()) {
      await Promise.all([
        insertAll(dbs.patients, Patient, chunk.patients, 6).then(() => insertAll(dbs.patients, PatientIdentifier, chunk.identifiers, 4)),
        insertAll(dbs.labs, LabResult, chunk.labResults, 12),
        insertAll(dbs.devices, Device, chunk.devices, 7).then(() => insertAll(dbs.devices, DeviceReading, chunk.readings, 6)),
        insertAll(dbs.research, Enrolment, chunk.enrolments, 5),
        insertAll(dbs.identity, User, chunk.users, 7),
        insertAll(dbs.consent, PatientHome, chunk.homes, 2)
          .then(() => insertAll(dbs.consent, Consent, chunk.consents, 19))
          .then(() => insertAll(dbs.consent, ConsentVersion, chunk.consentVersions, 2)),
      ]);
      count('consents', chunk.consents.length);
      deviceKeys.push(...chunk.deviceKeys);
      count('users', chunk.users.length);
      count('patients', chunk.patients.length);
      count('identifiers', chunk.identifiers.length);
      count('labResults', chunk.labResults.length);
      count('devices', chunk.devices.length);
      count('readings', chunk.readings.length);
      count('enrolments', chunk.enrolments.length);
      done += chunk.patients.length;
      progress(done, options.patients);
    }
    fs.mkdirSync(env.DATA_DIR, { recursive: true });
    fs.writeFileSync(deviceKeysPath(env.DATA_DIR), JSON.stringify(Object.fromEntries(deviceKeys.map((k) => [k.deviceId, k.seed]))), {
      mode: 0o600,
    });
  } finally {
    await Promise.all(Object.values(dbs).map((db) => db.destroy()));
  }
  const rows = Object.values(counts).reduce((a, b) => a + b, 0);
  return { patients: options.patients, rows, seconds: (performance.now() - started) / 1000, counts };
}
