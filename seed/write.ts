/**
 * Writes a generated world into each subgraph's own database (running its migrations
 * first), replacing what was there. Each chunk of patients is one transaction per
 * database, inserted as multi-row INSERTs sized under SQLite's bind-parameter limit.
 */
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { Env, SubgraphName } from '../common/config';
import { openDatabase } from '../common/database';
import { SUBGRAPHS } from '../subgraphs';
import { Device, DeviceReading } from '../subgraphs/devices/entities';
import { LabResult } from '../subgraphs/labs/entities';
import { Institution, Patient, PatientIdentifier, Practitioner } from '../subgraphs/patients/entities';
import { Enrolment, ResearchProject } from '../subgraphs/research/entities';
import { SeedGenerator, type SeedOptions } from './generate';

export interface SeedSummary {
  patients: number;
  rows: number;
  seconds: number;
  counts: Record<string, number>;
}

/** Tables in the order they can be emptied (children first). */
const TABLES: Record<SubgraphName, string[]> = {
  patients: ['patient_identifier', 'patient', 'practitioner', 'institution'],
  labs: ['lab_result'],
  devices: ['device_reading', 'device'],
  research: ['enrolment', 'research_project'],
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

export async function openAll(env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'>): Promise<Record<SubgraphName, DataSource>> {
  const entries = await Promise.all(
    Object.values(SUBGRAPHS).map(async (def) => [def.name, await openDatabase({ name: def.name, ...def.database }, env)] as const),
  );
  return Object.fromEntries(entries) as Record<SubgraphName, DataSource>;
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
    for (const [name, tables] of Object.entries(TABLES) as [SubgraphName, string[]][]) {
      await dbs[name].transaction(async (tx) => {
        for (const table of tables) await tx.query(`DELETE FROM ${table}`);
      });
    }
    const gen = new SeedGenerator(options);
    const { institutions, practitioners, projects } = gen.directory;
    await insertAll(dbs.patients, Institution, institutions, 4);
    await insertAll(dbs.patients, Practitioner, practitioners, 5);
    await insertAll(dbs.research, ResearchProject, projects, 6);
    count('institutions', institutions.length);
    count('practitioners', practitioners.length);
    count('researchProjects', projects.length);

    let done = 0;
    for (const chunk of gen.chunks()) {
      await Promise.all([
        insertAll(dbs.patients, Patient, chunk.patients, 6).then(() => insertAll(dbs.patients, PatientIdentifier, chunk.identifiers, 4)),
        insertAll(dbs.labs, LabResult, chunk.labResults, 12),
        insertAll(dbs.devices, Device, chunk.devices, 5).then(() => insertAll(dbs.devices, DeviceReading, chunk.readings, 6)),
        insertAll(dbs.research, Enrolment, chunk.enrolments, 5),
      ]);
      count('patients', chunk.patients.length);
      count('identifiers', chunk.identifiers.length);
      count('labResults', chunk.labResults.length);
      count('devices', chunk.devices.length);
      count('readings', chunk.readings.length);
      count('enrolments', chunk.enrolments.length);
      done += chunk.patients.length;
      progress(done, options.patients);
    }
  } finally {
    await Promise.all(Object.values(dbs).map((db) => db.destroy()));
  }
  const rows = Object.values(counts).reduce((a, b) => a + b, 0);
  return { patients: options.patients, rows, seconds: (performance.now() - started) / 1000, counts };
}
