import type { KeyObject } from 'node:crypto';
import type { SubgraphName } from '../../common/config';
import type { Identity } from '../../common/signed-identity';
import { SUBGRAPHS } from '../../subgraphs';
import { startSubgraph, type RunningSubgraph } from '../../subgraphs/kit/server';
import { seed } from '../../seed/write';
import { freshDatabase, type TestDatabase } from './database';
import { gql, type GraphQLResponse } from './graphql';
import { gatewayKeys, identityHeader, TRUSTED_CLINICIAN } from './identity';
import { openConsentDatabase } from '../../consent/database';
import { Consent, ConsentVersion, PatientHome, ProjectMember } from '../../consent/entities';
import type { Env } from '../../common/config';

export interface SubgraphUnderTest {
  database: TestDatabase;
  subgraph: RunningSubgraph;
  url: string;
  /** The key the subgraph trusts, as the gateway's would be. */
  gatewayKey: KeyObject;
  /** A request as the gateway would send it: signed identity for exactly this operation. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, identity?: Identity): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

/**
 * Test fixture: every seeded patient consents to one practitioner seeing and changing
 * all their data for TREATMENT — so tests of a subgraph's own behaviour can run as that
 * practitioner. (Consent behaviour itself is tested in test/consent.)
 */
export async function trustEveryone(env: Env, practitionerId: string): Promise<void> {
  const db = await openConsentDatabase(env);
  try {
    const patients = await db.getRepository(PatientHome).find();
    const now = new Date(Date.now() - 60_000);
    const rows: Consent[] = patients.map((p, i) => ({
      id: `cns_test_${i}`,
      patientId: p.patientId,
      parentId: null,
      granteeKind: 'practitioner',
      granteeId: practitionerId,
      categories: 'DEMOGRAPHICS|DEVICES|LABS|RESEARCH',
      actions: 'read|write',
      purposes: 'TREATMENT',
      effect: 'permit',
      validFrom: now,
      validUntil: null,
      dataLoincClass: null,
      dataFrom: null,
      dataUntil: null,
      identified: true,
      status: 'active',
      createdAt: now,
      createdBy: 'test',
      revokedAt: null,
    }));
    for (let i = 0; i < rows.length; i += 200) await db.getRepository(Consent).insert(rows.slice(i, i + 200));
    // Patients whose seeded consents deny something keep that denial: deny overrides.
    await db.getRepository(ConsentVersion).upsert(patients.map((p) => ({ patientId: p.patientId, version: 1000 })), ['patientId']);
  } finally {
    await db.destroy();
  }
}

/** A researcher who works on the project `projectConsent` opens (the tests' project member). */
export const PROJECT_RESEARCHER: Identity = {
  subject: 'usr_test_researcher',
  role: 'researcher',
  institutionId: null,
  patientId: null,
  practitionerId: 'prac_test_researcher',
  purpose: 'RESEARCH',
  scopes: ['read'],
  requestId: 'test-request',
};

/**
 * Test fixture for research: PROJECT_RESEARCHER becomes a member of `projectId`, and each
 * of `patientIds` consents to that project using their LABS and RESEARCH data for
 * RESEARCH — so tests of cohorts can run as a member whom every patient let in.
 */
export async function projectConsent(env: Env, projectId: string, patientIds: readonly string[]): Promise<void> {
  const db = await openConsentDatabase(env);
  try {
    await db.getRepository(ProjectMember).upsert({ projectId, practitionerId: PROJECT_RESEARCHER.practitionerId! }, ['projectId', 'practitionerId']);
    const now = new Date(Date.now() - 60_000);
    const rows: Consent[] = patientIds.map((patientId, i) => ({
      id: `cns_test_${projectId.slice(-8)}_${i}`,
      patientId,
      parentId: null,
      granteeKind: 'project',
      granteeId: projectId,
      categories: 'LABS|RESEARCH',
      actions: 'read',
      purposes: 'RESEARCH',
      effect: 'permit',
      validFrom: now,
      validUntil: null,
      dataLoincClass: null,
      dataFrom: null,
      dataUntil: null,
      identified: false,
      status: 'active',
      createdAt: now,
      createdBy: 'test',
      revokedAt: null,
    }));
    for (let i = 0; i < rows.length; i += 200) await db.getRepository(Consent).insert(rows.slice(i, i + 200));
    await db.getRepository(ConsentVersion).upsert(patientIds.map((patientId) => ({ patientId, version: 2000 })), ['patientId']);
  } finally {
    await db.destroy();
  }
}

/** A seeded database and one subgraph serving it in this process, on a free port. */
export async function startSeededSubgraph(name: SubgraphName, patients = 30, seedValue = 1): Promise<SubgraphUnderTest> {
  const database = await freshDatabase();
  await seed({ patients, seed: seedValue }, database.env);
  await trustEveryone(database.env, TRUSTED_CLINICIAN.practitionerId!);
  const keys = gatewayKeys();
  const subgraph = await startSubgraph(SUBGRAPHS[name], { env: database.env, port: 0, identityKey: keys.publicKey });
  return {
    database,
    subgraph,
    url: subgraph.url,
    gatewayKey: keys.privateKey,
    gql: async (query, variables, identity = TRUSTED_CLINICIAN) =>
      gql(subgraph.url, query, variables, await identityHeader(keys.privateKey, query, variables, identity)),
    async close() {
      await subgraph.close();
      await database.drop();
    },
  };
}
