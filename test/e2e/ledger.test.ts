/**
 * The audit trail, end to end: requests through the real hub produce access decisions;
 * the relay and worker (real Redis, BullMQ) append them to the Merkle tree; signed
 * checkpoints appear at the public endpoints; `custodian verify` checks it all from the
 * C2SP tiles — and catches an edited leaf and two reordered, and says it could not
 * verify (not "tampered") when a leaf is gone.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyLedger } from '../../cli/verify';
import { openDatabase } from '../../common/database';
import { decodeBase64Strict, leafHash, openCheckpoint, parseVerifierKey, verifyInclusion } from '../../ledger/core';
import { LEDGER_DATABASE } from '../../ledger/store/database';
import { LedgerLeaf } from '../../ledger/store/entities';
import { gql } from '../support/graphql';
import { startHub, type Hub } from '../support/hub';

let hub: Hub;
let clinician: Record<string, string>;
let compliance: string;
const saved = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-verify-')), 'checkpoint.json');

async function traffic(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await gql(`${hub.gateway}/graphql`, '{ patients(first: 5) { nodes { name { text } labResults(first: 2) { totalCount } } } }', undefined, clinician);
  }
}

async function checkpointSize(): Promise<number> {
  const res = await fetch(`${hub.gateway}/ledger/checkpoint`);
  if (!res.ok) return 0;
  return Number((await res.text()).split('\n')[1]);
}

async function waitForSize(atLeast: number, ms = 20_000): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const size = await checkpointSize();
    if (size >= atLeast || Date.now() > deadline) return size;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Polls until `probe` returns something, for the pipeline's few seconds. */
async function waitForValue<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  hub = await startHub();
  const users = hub.cli('users', '--role', 'clinician', '--limit', '1').split(/\s+/);
  clinician = { authorization: `Bearer ${hub.token(users[0]!)}` };
  compliance = hub.token(hub.cli('users', '--role', 'compliance', '--limit', '1').split(/\s+/)[0]!, 'read');
}, 120_000);
afterAll(async () => {
  if (hub && hub.process.exitCode === null) await hub.stop();
});

describe('the published ledger', () => {
  test('access decisions reach a signed checkpoint within seconds, and proofs verify', async () => {
    await traffic(3);
    const size = await waitForSize(3);
    expect(size).toBeGreaterThanOrEqual(3);
    const key = (await (await fetch(`${hub.gateway}/ledger/key`)).text()).trim();
    const note = await (await fetch(`${hub.gateway}/ledger/checkpoint`)).text();
    const { checkpoint } = openCheckpoint(note, [parseVerifierKey(key)]);
    expect(checkpoint.size).toBeGreaterThanOrEqual(3);

    const entry: any = await (await fetch(`${hub.gateway}/ledger/entries/1`, { headers: { authorization: `Bearer ${compliance}` } })).json();
    const data = decodeBase64Strict(entry.leafData)!;
    expect(leafHash(data).toString('base64')).toBe(entry.leafHash);
    // Opaque ids only: no names, no clinical values in what is hashed.
    expect(data.toString('utf8')).not.toMatch(/"(name|value|givenName|familyName|text)"/);
    const proof: any = await (await fetch(`${hub.gateway}/ledger/proof/inclusion?index=1&treeSize=${checkpoint.size}`)).json();
    expect(() =>
      verifyInclusion(1, checkpoint.size, leafHash(data), proof.hashes.map((h: string) => decodeBase64Strict(h)!), checkpoint.rootHash),
    ).not.toThrow();
  });

  test('bad requests get a 4xx, and entries are for the compliance role', async () => {
    const size = await checkpointSize();
    for (const q of [`inclusion?index=${size + 5}&treeSize=${size}`, 'inclusion?index=-1&treeSize=2', 'inclusion?index=1&treeSize=1e3', 'inclusion', `consistency?from=3&to=2`, 'consistency?from=0&to=2', `consistency?from=1&to=${size + 100}`]) {
      const res = await fetch(`${hub.gateway}/ledger/proof/${q}`);
      expect([q, res.status]).toEqual([q, 400]);
    }
    expect((await fetch(`${hub.gateway}/ledger/entries/0`)).status).toBe(401);
    expect((await fetch(`${hub.gateway}/ledger/entries/0`, { headers: clinician })).status).toBe(403);
    expect((await fetch(`${hub.gateway}/ledger/entries/99999999`, { headers: { authorization: `Bearer ${compliance}` } })).status).toBe(404);
    expect((await fetch(`${hub.gateway}/ledger/entries/x`, { headers: { authorization: `Bearer ${compliance}` } })).status).toBe(400);
  });

  test('`custodian verify` accepts the untouched ledger, and later a grown one consistent with it', async () => {
    const first = await verifyLedger({ url: hub.gateway, token: compliance, fromCheckpoint: saved });
    expect(first.problems).toEqual([]);
    const before = first.size;
    await traffic(2);
    await waitForSize(before + 2);
    const second = await verifyLedger({ url: hub.gateway, token: compliance, fromCheckpoint: saved });
    expect(second.problems).toEqual([]);
    expect(second.size).toBeGreaterThan(before);
    expect(second.notes.join('\n')).toMatch(new RegExp(`consistent with the saved checkpoint of size ${before}`));
  });

  test('the audit trail through the gateway: the patient sees who read their record, compliance proves it, consent changes are ledgered too', async () => {
    const gateway = `${hub.gateway}/graphql`;
    const [, , practitionerId, institutionId] = hub.cli('users', '--role', 'clinician', '--limit', '1').split(/\s+/);
    const patientLine = hub.cli('users', '--role', 'patient').split('\n').map((l) => l.trim().split(/\s+/)).find((cols) => cols[3] === institutionId)!;
    const [patientUser, , patientId] = patientLine;
    const patient = { authorization: `Bearer ${hub.token(patientUser!)}` };
    const complianceAuth = { authorization: `Bearer ${compliance}` };
    const clinicianId = (await gql(gateway, '{ me { id } }', undefined, clinician)).data.me.id;

    // The clinician reads the patient's record (their institution: base policy, TREATMENT).
    const read = await gql(gateway, 'query($id: ID!) { patient(id: $id) { name { text } labResults(first: 1) { totalCount } } }', { id: patientId }, clinician);
    expect(read.errors).toBeUndefined();

    // The patient sees it, with the clinician's name resolved from the patients subgraph.
    const ACCESS_LOG = '{ me { patient { id accessLog(first: 50) { nodes { actor { userId role practitioner { id name { text } } } category decision purpose } } } } }';
    const log = await waitForValue('the read in the patient\'s access log', async () => {
      const res = await gql(gateway, ACCESS_LOG, undefined, patient);
      const nodes = res.data?.me?.patient?.accessLog?.nodes ?? [];
      return nodes.some((n: any) => n.actor.userId === clinicianId && n.category === 'LABS') ? nodes : undefined;
    });
    const labs = log.find((n: any) => n.actor.userId === clinicianId && n.category === 'LABS');
    expect(labs).toMatchObject({ decision: 'PERMIT', purpose: 'TREATMENT', actor: { role: 'clinician', practitioner: { id: practitionerId } } });
    expect(labs.actor.practitioner.name.text.length).toBeGreaterThan(0);

    // Compliance finds the same event in the trail, and checks its proof like an outsider.
    const TRAIL = 'query($p: ID, $a: ID, $k: String) { auditTrail(patientId: $p, actor: $a, kind: $k, first: 20) { nodes { id kind actor { userId } ledger { index leafData inclusion { treeSize hashes checkpoint } } } } }';
    const proven = await waitForValue('a proof for the read', async () => {
      const res = await gql(gateway, TRAIL, { p: patientId, a: clinicianId }, complianceAuth);
      return res.data?.auditTrail?.nodes.find((n: any) => n.ledger.inclusion);
    });
    const key = parseVerifierKey((await (await fetch(`${hub.gateway}/ledger/key`)).text()).trim());
    const { checkpoint } = openCheckpoint(proven.ledger.inclusion.checkpoint, [key]);
    const data = decodeBase64Strict(proven.ledger.leafData)!;
    expect(JSON.parse(data.toString('utf8'))).toMatchObject({ id: proven.id, patientId, subject: clinicianId });
    verifyInclusion(proven.ledger.index, checkpoint.size, leafHash(data), proven.ledger.inclusion.hashes.map((h: string) => decodeBase64Strict(h)!), checkpoint.rootHash);
    // A clinician cannot read the trail.
    expect((await gql(gateway, TRAIL, { p: patientId }, clinician)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    // The patient's consent change goes through the consent database's outbox to the ledger.
    const granted = await gql(
      gateway,
      'mutation($p: ID!, $g: ID!) { grantConsent(input: { patientId: $p, grantee: { kind: PRACTITIONER, id: $g }, categories: [LABS], purposes: [RESEARCH] }) { id } }',
      { p: patientId, g: practitionerId },
      patient,
    );
    expect(granted.errors).toBeUndefined();
    const consentEvent = await waitForValue('the grant in the trail', async () => {
      const res = await gql(gateway, TRAIL, { p: patientId, k: 'consent.granted' }, complianceAuth);
      return res.data?.auditTrail?.nodes.find((n: any) => JSON.parse(decodeBase64Strict(n.ledger.leafData)!.toString('utf8')).consentId === granted.data.grantConsent.id);
    });
    expect(consentEvent.actor.userId).not.toBe(clinicianId);

    // A clinician of another institution breaks the glass; the answer's details come from
    // the audit subgraph (an entity join), and compliance finds it in the review queue.
    const outsiderName = hub.cli('users', '--role', 'clinician').split('\n').map((l) => l.trim().split(/\s+/)).find((cols) => cols[3] !== institutionId)![0]!;
    const emergency = { authorization: `Bearer ${hub.token(outsiderName)}`, 'x-purpose-of-use': 'EMERGENCY' };
    const glass = await gql(gateway, 'mutation($p: ID!) { breakTheGlass(patientId: $p, justification: "Found unconscious, no records at hand", minutes: 15) { id patientId justification expiresAt } }', { p: patientId }, emergency);
    expect(glass.errors).toBeUndefined();
    expect(glass.data.breakTheGlass).toMatchObject({ patientId, justification: 'Found unconscious, no records at hand' });
    // Breaking the glass does not reach research data: that one field is refused, typed,
    // and the rest of the answer stays usable.
    const record = await gql(gateway, 'query($id: ID!) { patient(id: $id) { name { text } labResults(first: 1) { totalCount } devices { id } researchProjects { project { id } } } }', { id: patientId }, emergency);
    expect(record.data.patient.name.text.length).toBeGreaterThan(0);
    expect(record.data.patient.labResults.totalCount).toBeGreaterThanOrEqual(0);
    expect(Array.isArray(record.data.patient.devices)).toBe(true);
    expect(record.data.patient.researchProjects).toBeNull();
    expect(record.errors).toEqual([expect.objectContaining({ path: ['patient', 'researchProjects'], extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);

    const queue = await gql(gateway, '{ breakGlassReviews { id userId } }', undefined, complianceAuth);
    expect(queue.data.breakGlassReviews.map((g: any) => g.id)).toContain(glass.data.breakTheGlass.id);

    // The accounting of disclosures names the clinician; the patient may download it.
    const report = await gql(gateway, 'query($p: ID!, $from: DateTime!) { disclosures(patientId: $p, from: $from) { lines { recipient { userId } category accesses } csv } }', { p: patientId, from: new Date(Date.now() - 3_600_000).toISOString() }, patient);
    expect(report.data.disclosures.lines).toEqual(expect.arrayContaining([expect.objectContaining({ recipient: { userId: clinicianId }, category: 'LABS' })]));
    expect(report.data.disclosures.csv).toContain(`${clinicianId},clinician,`);
  });

  describe('tampering is caught', () => {
    let ledger: import('typeorm').DataSource;
    beforeAll(async () => {
      ledger = await openDatabase(LEDGER_DATABASE, hub.database.env);
    });
    afterAll(() => ledger?.destroy());
    const repo = () => ledger.getRepository(LedgerLeaf);

    test('an edited leaf', async () => {
      // An access decision (the ledger also holds token, session and consent events).
      const leaf = (await repo().find({ order: { leafIndex: 'ASC' }, take: 50 })).find((l) => l.leafData.includes('"decision":'))!;
      const forged = leaf.leafData.replace(/"decision":"(permit|deny)"/, (_m, d) => `"decision":"${d === 'permit' ? 'deny' : 'permit'}"`);
      expect(forged).not.toBe(leaf.leafData);
      // The forger even fixes up the leaf hash; only the signed root can tell.
      await repo().update({ leafIndex: leaf.leafIndex }, { leafData: forged, leafHash: leafHash(Buffer.from(forged)).toString('base64') });
      const report = await verifyLedger({ url: hub.gateway, token: compliance });
      await repo().update({ leafIndex: leaf.leafIndex }, { leafData: leaf.leafData, leafHash: leaf.leafHash });
      expect(report.ok).toBe(false);
      expect(report.problems.join('\n')).toMatch(new RegExp(`entry ${leaf.leafIndex} was altered: .*the root recomputed from the entries differs from the signed root`));
    });

    test('a deleted leaf: the hub cannot serve its bundle, which is "could not verify", not evidence', async () => {
      const leaf = await repo().findOneByOrFail({ leafIndex: 1 });
      await repo().delete({ leafIndex: 1 });
      const report = await verifyLedger({ url: hub.gateway, token: compliance });
      await repo().insert(leaf);
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual([]);
      expect(report.unreadable).toMatch(/^GET \/ledger\/tile\/entries\/000(\.p\/\d+)?: HTTP 500/);
    });

    test('two leaves reordered', async () => {
      const [a, b] = [await repo().findOneByOrFail({ leafIndex: 0 }), await repo().findOneByOrFail({ leafIndex: 1 })];
      await repo().update({ leafIndex: 0 }, { leafData: b.leafData, leafHash: b.leafHash, eventId: `${b.eventId}-swap` });
      await repo().update({ leafIndex: 1 }, { leafData: a.leafData, leafHash: a.leafHash, eventId: a.eventId + '-swap' });
      const report = await verifyLedger({ url: hub.gateway, token: compliance });
      await repo().update({ leafIndex: 0 }, { leafData: a.leafData, leafHash: a.leafHash, eventId: `${a.eventId}-tmp` });
      await repo().update({ leafIndex: 1 }, { leafData: b.leafData, leafHash: b.leafHash, eventId: b.eventId });
      await repo().update({ leafIndex: 0 }, { eventId: a.eventId });
      expect(report.ok).toBe(false);
      expect(report.problems.join('\n')).toMatch(/entry 0 was altered: .* differs from the signed root/);
      // Restored, it verifies again.
      expect((await verifyLedger({ url: hub.gateway, token: compliance })).problems).toEqual([]);
    });
  });
});
