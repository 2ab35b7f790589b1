/**
 * The consent engine at scale, side by side with plain Casbin:
 *
 *  - 1,000,000 consents across 100,000 patients in a fresh consent database;
 *  - decisions/s and per-decision p50/p99 for random (subject, patient) requests, cold
 *    (policies loaded and enforcers built on first touch) and warm (cached, version
 *    checked per batch, as a request does);
 *  - the same decisions by ONE Casbin enforcer holding every policy line of 1,000
 *    patients (what an unpartitioned deployment does), against our per-patient ones.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newEnforcer, newModelFromString } from 'casbin';
import type { DataSource } from 'typeorm';
import { projectRoot } from '../common/paths';
import { openConsentDatabase } from '../consent/database';
import { ConsentEngine } from '../consent/engine';
import { listMatch, principalMatch, within } from '../consent/matchers';
import { policyLines } from '../consent/policy-lines';
import { Consent } from '../consent/entities';

const PATIENTS = Number(process.env.BENCH_CONSENT_PATIENTS ?? 100_000);
const PER_PATIENT = 10;
const REQUESTS = Number(process.env.BENCH_CONSENT_REQUESTS ?? 10_000);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Bulk load through the driver's prepared statement: a million rows through TypeORM's
 *  query builder would take minutes and measure TypeORM, not the engine. */
function load(db: DataSource): void {
  const sqlite = (db.driver as unknown as { databaseConnection: import('better-sqlite3').Database }).databaseConnection;
  const home = sqlite.prepare('INSERT INTO patient_home (patient_id, institution_id) VALUES (?, ?)');
  const consent = sqlite.prepare(
    `INSERT INTO consent (id, patient_id, parent_id, grantee_kind, grantee_id, categories, actions, purposes, effect, valid_from, valid_until,
       data_loinc_class, data_from, data_until, identified, status, created_at, created_by, revoked_at)
     VALUES (?, ?, NULL, ?, ?, ?, 'read', ?, ?, '2025-01-01T00:00:00.000Z', NULL, NULL, NULL, NULL, 0, 'active', '2025-01-01T00:00:00.000Z', 'bench', NULL)`,
  );
  const version = sqlite.prepare('INSERT INTO consent_version (patient_id, version) VALUES (?, 1)');
  sqlite.transaction(() => {
    for (let p = 0; p < PATIENTS; p++) {
      const pid = `pat_${p}`;
      home.run(pid, `inst_${p % 5}`);
      version.run(pid);
      for (let k = 0; k < PER_PATIENT; k++) {
        const kind = k % 3 === 0 ? 'project' : k % 3 === 1 ? 'practitioner' : 'role';
        const grantee = kind === 'project' ? `proj_${(p + k) % 40}` : kind === 'practitioner' ? `prac_${(p * 7 + k) % 5000}` : `clinician@inst_${k % 5}`;
        consent.run(`cns_${p}_${k}`, pid, kind, grantee, k % 2 ? 'LABS|RESEARCH' : 'DEMOGRAPHICS|LABS', kind === 'project' ? 'RESEARCH' : 'TREATMENT', k === 9 ? 'deny' : 'permit');
      }
    }
  })();
}

export async function consentEngineBench(): Promise<Record<string, unknown>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-consent-bench-'));
  const db = await openConsentDatabase({ DATA_DIR: dataDir, DATABASE_URL: undefined });
  try {
    let t = performance.now();
    load(db);
    const loadSeconds = (performance.now() - t) / 1000;
    console.log(`consent store: ${PATIENTS * PER_PATIENT} consents across ${PATIENTS} patients loaded in ${loadSeconds.toFixed(1)} s`);

    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const requests = Array.from({ length: REQUESTS }, () => ({
      patientId: `pat_${rand(PATIENTS)}`,
      principals: `user:u|practitioner:prac_${rand(5000)}|role:clinician@inst_${rand(5)}|project:proj_${rand(40)}`,
      category: rand(2) ? ('LABS' as const) : ('DEMOGRAPHICS' as const),
      purpose: rand(2) ? ('TREATMENT' as const) : ('RESEARCH' as const),
    }));

    const engine = new ConsentEngine(db, PATIENTS);
    const run = async (label: string) => {
      const latencies: number[] = [];
      let allowed = 0;
      const start = performance.now();
      for (const r of requests) {
        const t0 = performance.now();
        const d = await engine.may({ ...r, action: 'read', at: new Date() });
        latencies.push(performance.now() - t0);
        if (d.allowed) allowed++;
      }
      const seconds = (performance.now() - start) / 1000;
      latencies.sort((a, b) => a - b);
      const row = { label, decisionsPerSecond: Math.round(REQUESTS / seconds), p50ms: +percentile(latencies, 50).toFixed(3), p99ms: +percentile(latencies, 99).toFixed(3), allowedShare: +(allowed / REQUESTS).toFixed(2) };
      console.log(`engine ${label}: ${row.decisionsPerSecond} decisions/s, p50 ${row.p50ms} ms, p99 ${row.p99ms} ms (one decision per call, version check included)`);
      return row;
    };
    const cold = await run('cold');
    const warm = await run('warm');

    // Side by side: the same kind of decision by one enforcer holding 1,000 patients'
    // lines, versus the per-patient enforcer, both in memory, no database.
    const subset = 1000;
    const rows = await db.getRepository(Consent).find({ where: {}, take: subset * PER_PATIENT, order: { patientId: 'ASC' } });
    const byPatient = new Map<string, Consent[]>();
    for (const c of rows) byPatient.set(c.patientId, [...(byPatient.get(c.patientId) ?? []), c]);
    const model = fs.readFileSync(path.join(projectRoot(), 'consent', 'model.conf'), 'utf8');
    const single = await newEnforcer(newModelFromString(model));
    for (const [name, fn] of Object.entries({ principalMatch, listMatch, within })) await single.addFunction(name, fn);
    const lines = [...byPatient.entries()].flatMap(([pid, cs]) => policyLines(pid, 'inst_0', cs, []));
    await single.addPolicies(lines);
    const policies = await engine.policies([...byPatient.keys()]);
    // Few samples: the single enforcer manages only tens of decisions a second.
    const sample = requests.slice(0, 300).map((r, i) => ({ ...r, patientId: [...byPatient.keys()][i % byPatient.size]! }));
    const now = new Date().toISOString();
    t = performance.now();
    for (const r of sample) single.enforceSync(r.principals, r.patientId, r.category, 'read', r.purpose, now);
    const singleRate = sample.length / ((performance.now() - t) / 1000);
    t = performance.now();
    for (const r of sample) policies.get(r.patientId)!.enforcer.enforceSync(r.principals, r.patientId, r.category, 'read', r.purpose, now);
    const partitionedRate = sample.length / ((performance.now() - t) / 1000);
    console.log(
      `casbin, ${lines.length} lines in one enforcer: ${Math.round(singleRate)} decisions/s; partitioned per patient: ${Math.round(partitionedRate)} decisions/s (×${(partitionedRate / singleRate).toFixed(0)})`,
    );
    return {
      consents: PATIENTS * PER_PATIENT,
      patients: PATIENTS,
      loadSeconds,
      cold,
      warm,
      casbinSide: { lines: lines.length, singleEnforcerPerSecond: Math.round(singleRate), partitionedPerSecond: Math.round(partitionedRate), ratio: partitionedRate / singleRate },
    };
  } finally {
    await db.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
