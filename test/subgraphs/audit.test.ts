/**
 * The audit subgraph over a real ledger: events appended through the real append path
 * and signed into a real checkpoint; every answer's inclusion proof is checked against
 * the signed root, as an outside verifier would.
 */
import type { DataSource } from 'typeorm';
import type { Identity } from '../../common/signed-identity';
import { appendEvents } from '../../ledger/store/append';
import { openCheckpoint } from '../../ledger/core/checkpoint';
import { publishCheckpoint, verifierKey } from '../../ledger/pipeline/checkpoint-publisher';
import { openLedgerDatabase } from '../../ledger/store/database';
import { decodeBase64Strict } from '../../ledger/core/encoding';
import { leafHash } from '../../ledger/core/hashing';
import { ledgerEventFromOutbox, type LedgerEvent } from '../../ledger/core/leaf';
import { loadLedgerNoteKey, type LedgerNoteKey } from '../../ledger/core/note-key';
import { parseVerifierKey } from '../../ledger/core/note';
import { verifyInclusion } from '../../ledger/core/verify';
import { codes, ok } from '../support/graphql';
import { appendLeafTexts, FORMAT_1_LEAVES } from '../support/ledger-leaves';
import { startSeededSubgraph, type SubgraphUnderTest } from '../support/subgraph';

const ORIGIN = 'custodian.test/audit';
const PATIENT_A = 'pat_audit_a';
const PATIENT_B = 'pat_audit_b';
/** The patient of the format-1 fixture leaves. */
const FORMAT_1_PATIENT = 'pat_0e6b2d91';

const identity = (over: Partial<Identity>): Identity => ({
  subject: 'usr_x',
  role: 'clinician',
  institutionId: null,
  patientId: null,
  practitionerId: null,
  purpose: 'TREATMENT',
  scopes: ['read'],
  requestId: 'req-audit-test',
  ...over,
});
const COMPLIANCE = identity({ subject: 'usr_compliance', role: 'compliance', institutionId: 'inst_1', purpose: 'OPERATIONS' });
const PATIENT = identity({ subject: 'usr_patient_a', role: 'patient', patientId: PATIENT_A });
const CLINICIAN = identity({ subject: 'usr_doc', role: 'clinician', institutionId: 'inst_1', practitionerId: 'prac_doc' });

let t: SubgraphUnderTest;
let ledger: DataSource;
let key: LedgerNoteKey;
let n = 0;

/** An access decision as kit/decisions.ts writes it, through the outbox → leaf path. */
function access(over: Record<string, unknown>): LedgerEvent {
  n++;
  const payload = {
    at: new Date(Date.UTC(2026, 10, 1, 8, n)).toISOString(),
    service: 'labs',
    requestId: `req-${n}`,
    subject: CLINICIAN.subject,
    role: 'clinician',
    institutionId: 'inst_1',
    practitionerId: 'prac_doc',
    patientId: PATIENT_A,
    category: 'LABS',
    action: 'read',
    purpose: 'TREATMENT',
    decision: 'permit',
    decidedBy: 'base:treating-institution',
    consentVersion: 1,
    ...over,
  };
  return ledgerEventFromOutbox({ id: `evt_audit_${String(n).padStart(4, '0')}`, kind: 'access.decision', payload: JSON.stringify(payload), createdAt: new Date() });
}

const TRAIL = `query($patientId: ID, $actor: ID, $category: DataCategory, $decision: AccessDecision, $kind: String, $from: DateTime, $to: DateTime, $first: Int, $after: String) {
  auditTrail(patientId: $patientId, actor: $actor, category: $category, decision: $decision, kind: $kind, from: $from, to: $to, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id kind at patientId category action purpose decision decidedBy service requestId
      actor { userId role institutionId practitionerId practitioner { id } institution { id } }
      ledger { index leafData leafHash inclusion { treeSize hashes checkpoint } } }
  }
}`;

const ACCESS_LOG = `query($r: [_Any!]!, $includeOwn: Boolean, $first: Int) {
  _entities(representations: $r) { ... on Patient { id accessLog(includeOwn: $includeOwn, first: $first) { nodes { id actor { userId role } category decision } } } }
}`;

const DISCLOSURES = `query($patientId: ID!, $from: DateTime!, $to: DateTime) {
  disclosures(patientId: $patientId, from: $from, to: $to) {
    patientId lines { recipient { userId role institutionId practitionerId } category purpose service accesses firstAt lastAt } csv
  }
}`;

let events: LedgerEvent[];

beforeAll(async () => {
  t = await startSeededSubgraph('audit', 5);
  ledger = await openLedgerDatabase(t.database.env);
  key = loadLedgerNoteKey({ dataDir: t.database.env.DATA_DIR, name: ORIGIN });
  events = [
    access({}),
    access({ category: 'DEVICES', service: 'devices' }),
    access({ decision: 'deny', decidedBy: 'default-deny', subject: 'usr_stranger', role: 'researcher', institutionId: 'inst_2', practitionerId: 'prac_stranger', purpose: 'RESEARCH' }),
    access({ patientId: PATIENT_B }),
    // The patient reading their own record: not a disclosure, hidden from their log by default.
    access({ subject: PATIENT.subject, role: 'patient', institutionId: undefined, practitionerId: undefined, purpose: 'TREATMENT', decidedBy: 'base:patient-self' }),
    access({}),
    ledgerEventFromOutbox({
      id: 'evt_audit_consent',
      kind: 'consent.granted',
      payload: JSON.stringify({ at: new Date(Date.UTC(2026, 10, 1, 9)).toISOString(), subject: PATIENT.subject, role: 'patient', patientId: PATIENT_A, consentId: 'cns_1', categories: 'LABS' }),
      createdAt: new Date(),
    }),
  ];
  await appendEvents(ledger, events);
  await publishCheckpoint(ledger, key, ORIGIN);
});

afterAll(async () => {
  await ledger?.destroy();
  await t?.close();
});

/** What an outside verifier does with an audit event: signature, then leaf → root. */
function verifyAsOutsider(node: any): void {
  const verifier = parseVerifierKey(verifierKey(key));
  const { checkpoint } = openCheckpoint(node.ledger.inclusion.checkpoint, [verifier], { origin: ORIGIN });
  expect(checkpoint.size).toBe(node.ledger.inclusion.treeSize);
  const data = decodeBase64Strict(node.ledger.leafData)!;
  expect(JSON.parse(data.toString('utf8')).id).toBe(node.id);
  verifyInclusion(node.ledger.index, checkpoint.size, leafHash(data), node.ledger.inclusion.hashes.map((h: string) => decodeBase64Strict(h)!), checkpoint.rootHash);
}

describe('audit subgraph', () => {
  test('compliance reads a patient\'s trail, newest first, each event with a proof that verifies against the signed checkpoint', async () => {
    const { auditTrail } = ok(await t.gql(TRAIL, { patientId: PATIENT_A }, COMPLIANCE));
    const ids = auditTrail.nodes.map((e: any) => e.id);
    const expected = events.filter((e) => e.patientId === PATIENT_A).map((e) => e.id).reverse();
    expect(ids).toEqual(expected);
    const first = auditTrail.nodes.find((e: any) => e.id === events[0]!.id);
    expect(first).toMatchObject({
      kind: 'access.decision',
      category: 'LABS',
      action: 'READ',
      purpose: 'TREATMENT',
      decision: 'PERMIT',
      decidedBy: 'base:treating-institution',
      service: 'labs',
      actor: { userId: CLINICIAN.subject, role: 'clinician', institutionId: 'inst_1', practitionerId: 'prac_doc', practitioner: { id: 'prac_doc' }, institution: { id: 'inst_1' } },
      ledger: { index: 0 },
    });
    for (const node of auditTrail.nodes) verifyAsOutsider(node);
  });

  test('filters by actor, category, decision, kind and period, and pages by cursor', async () => {
    const byActor = ok(await t.gql(TRAIL, { actor: 'usr_stranger' }, COMPLIANCE)).auditTrail.nodes;
    expect(byActor.map((e: any) => e.id)).toEqual([events[2]!.id]);
    const denied = ok(await t.gql(TRAIL, { decision: 'DENY' }, COMPLIANCE)).auditTrail.nodes;
    expect(denied.map((e: any) => e.decidedBy)).toEqual(['default-deny']);
    const devices = ok(await t.gql(TRAIL, { category: 'DEVICES' }, COMPLIANCE)).auditTrail.nodes;
    expect(devices.map((e: any) => e.id)).toEqual([events[1]!.id]);
    const consents = ok(await t.gql(TRAIL, { kind: 'consent.granted' }, COMPLIANCE)).auditTrail.nodes;
    expect(consents.map((e: any) => e.id)).toEqual(['evt_audit_consent']);
    expect(consents[0].category).toBeNull();
    const window = ok(await t.gql(TRAIL, { from: events[1]!.at, to: events[3]!.at }, COMPLIANCE)).auditTrail.nodes;
    expect(window.map((e: any) => e.id)).toEqual([events[2]!.id, events[1]!.id]);

    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = ok(await t.gql(TRAIL, { first: 3, after }, COMPLIANCE)).auditTrail;
      seen.push(...page.nodes.map((e: any) => e.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(events.map((e) => e.id).reverse());
  });

  test('totalCount: exact for one patient, on every page; null for the whole trail (withheld events must not be counted)', async () => {
    const COUNTED = `query($patientId: ID, $first: Int) { auditTrail(patientId: $patientId, first: $first) { totalCount nodes { id } } }`;
    const one = ok(await t.gql(COUNTED, { patientId: PATIENT_A, first: 1 }, COMPLIANCE)).auditTrail;
    expect(one.nodes).toHaveLength(1);
    expect(one.totalCount).toBe(events.filter((e) => e.patientId === PATIENT_A).length);
    expect(ok(await t.gql(COUNTED, { first: 1 }, COMPLIANCE)).auditTrail.totalCount).toBeNull();
    const log = ok(await t.gql(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { accessLog(first: 1) { totalCount nodes { id } } } } }`, { r: [{ __typename: 'Patient', id: PATIENT_A }] }, PATIENT))._entities[0].accessLog;
    // The patient's own read is left out of the count as of the page.
    expect(log.totalCount).toBe(events.filter((e) => e.patientId === PATIENT_A && e.kind === 'access.decision' && (e as any).subject !== PATIENT.subject).length);
  });

  test('filters by the practitioner record an actor acted as, exactly: a LIKE wildcard in the id matches only itself', async () => {
    const BY_PRACTITIONER = 'query($p: ID) { auditTrail(practitionerId: $p, first: 50) { nodes { id actor { practitionerId } } } }';
    const doc = ok(await t.gql(BY_PRACTITIONER, { p: 'prac_doc' }, COMPLIANCE)).auditTrail.nodes;
    expect(doc.map((e: any) => e.id)).toEqual([events[5]!.id, events[3]!.id, events[1]!.id, events[0]!.id]);
    expect(ok(await t.gql(BY_PRACTITIONER, { p: 'prac_stranger' }, COMPLIANCE)).auditTrail.nodes.map((e: any) => e.id)).toEqual([events[2]!.id]);
    // `_` and `%` are LIKE wildcards: escaped, "prac%" and "prac_do_" match no id.
    expect(ok(await t.gql(BY_PRACTITIONER, { p: 'prac%' }, COMPLIANCE)).auditTrail.nodes).toEqual([]);
    expect(ok(await t.gql(BY_PRACTITIONER, { p: 'prac_do_' }, COMPLIANCE)).auditTrail.nodes).toEqual([]);
    expect(codes(await t.gql(BY_PRACTITIONER, { p: 'prac_doc' }, CLINICIAN))).toEqual(['FORBIDDEN']);
  });

  test('only compliance, and only for OPERATIONS, reads the trail', async () => {
    expect(codes(await t.gql(TRAIL, {}, CLINICIAN))).toEqual(['FORBIDDEN']);
    expect(codes(await t.gql(TRAIL, {}, PATIENT))).toEqual(['FORBIDDEN']);
    expect(codes(await t.gql(TRAIL, {}, { ...COMPLIANCE, purpose: 'TREATMENT' }))).toEqual(['FORBIDDEN']);
  });

  test('bad input is a typed error', async () => {
    expect(codes(await t.gql(TRAIL, { first: 101 }, COMPLIANCE))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(TRAIL, { after: 'not-a-cursor!' }, COMPLIANCE))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(TRAIL, { from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' }, COMPLIANCE))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(TRAIL, { kind: 'DROP TABLE' }, COMPLIANCE))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(TRAIL, { from: 'yesterday' }, COMPLIANCE))).toEqual(['BAD_USER_INPUT']);
  });

  test('a patient sees who accessed their data — not their own reads unless asked — and nobody else\'s', async () => {
    const log = ok(await t.gql(ACCESS_LOG, { r: [{ __typename: 'Patient', id: PATIENT_A }] }, PATIENT))._entities[0].accessLog.nodes;
    expect(log.map((e: any) => e.id)).toEqual([events[5]!.id, events[2]!.id, events[1]!.id, events[0]!.id]);
    expect(log.find((e: any) => e.decision === 'DENY').actor).toEqual({ userId: 'usr_stranger', role: 'researcher' });
    const withOwn = ok(await t.gql(ACCESS_LOG, { r: [{ __typename: 'Patient', id: PATIENT_A }], includeOwn: true }, PATIENT))._entities[0].accessLog.nodes;
    expect(withOwn.map((e: any) => e.id)).toContain(events[4]!.id);

    const other = await t.gql(ACCESS_LOG, { r: [{ __typename: 'Patient', id: PATIENT_B }] }, { ...PATIENT, requestId: 'req-other' });
    expect(codes(other)).toEqual(['FORBIDDEN']);
    // Nor may a clinician read a patient's access log.
    expect(codes(await t.gql(ACCESS_LOG, { r: [{ __typename: 'Patient', id: PATIENT_A }] }, CLINICIAN))).toEqual(['FORBIDDEN']);
  });

  test('accounting of disclosures: permitted accesses by others, summed per recipient, category, purpose and service; as JSON and CSV', async () => {
    const from = '2026-11-01T00:00:00.000Z';
    const report = ok(await t.gql(DISCLOSURES, { patientId: PATIENT_A, from, to: '2026-11-02T00:00:00.000Z' }, COMPLIANCE)).disclosures;
    expect(report.lines).toEqual([
      {
        recipient: { userId: CLINICIAN.subject, role: 'clinician', institutionId: 'inst_1', practitionerId: 'prac_doc' },
        category: 'LABS',
        purpose: 'TREATMENT',
        service: 'labs',
        accesses: 2,
        firstAt: events[0]!.at,
        lastAt: events[5]!.at,
      },
      {
        recipient: { userId: CLINICIAN.subject, role: 'clinician', institutionId: 'inst_1', practitionerId: 'prac_doc' },
        category: 'DEVICES',
        purpose: 'TREATMENT',
        service: 'devices',
        accesses: 1,
        firstAt: events[1]!.at,
        lastAt: events[1]!.at,
      },
    ]);
    const csv: string[] = report.csv.split('\r\n');
    expect(csv[0]).toBe('recipient_user_id,recipient_role,institution_id,practitioner_id,category,purpose,service,accesses,first_at,last_at');
    expect(csv[1]).toBe(`usr_doc,clinician,inst_1,prac_doc,LABS,TREATMENT,labs,2,${events[0]!.at},${events[5]!.at}`);
    expect(csv).toHaveLength(4); // header, two lines, and the final CRLF

    // The patient may ask for their own; a clinician may not ask for anyone's.
    expect(ok(await t.gql(DISCLOSURES, { patientId: PATIENT_A, from }, PATIENT)).disclosures.lines).toHaveLength(2);
    expect(codes(await t.gql(DISCLOSURES, { patientId: PATIENT_A, from }, CLINICIAN))).toEqual(['FORBIDDEN']);
    expect(codes(await t.gql(DISCLOSURES, { patientId: PATIENT_B, from }, PATIENT))).toEqual(['FORBIDDEN']);
    expect(codes(await t.gql(DISCLOSURES, { patientId: PATIENT_A, from, to: from }, COMPLIANCE))).toEqual(['BAD_USER_INPUT']);
  });

  test('an event not yet under a signed checkpoint has no proof yet; the checkpoint itself is public', async () => {
    const late = access({ patientId: PATIENT_B, at: new Date(Date.UTC(2026, 10, 3)).toISOString() });
    await appendEvents(ledger, [late]);
    const { auditTrail, ledgerCheckpoint } = ok(await t.gql(`query { ledgerCheckpoint { size root note } ${TRAIL.slice(TRAIL.indexOf('auditTrail'), -2)} }`.replace(/\$\w+/g, 'null'), {}, COMPLIANCE));
    expect(ledgerCheckpoint.size).toBe(events.length);
    expect(ledgerCheckpoint.note.startsWith(`${ORIGIN}\n${events.length}\n`)).toBe(true);
    expect(auditTrail.nodes[0].id).toBe(late.id);
    expect(auditTrail.nodes[0].ledger.inclusion).toBeNull();
    expect(auditTrail.nodes[1].ledger.inclusion.treeSize).toBe(events.length);
  });

  test('format-1 leaves (written before leaves carried a version) read in the trail beside format-2 ones, bytes unchanged, proofs verifying', async () => {
    const [first] = await appendLeafTexts(ledger, FORMAT_1_LEAVES.map((l) => l.text));
    await publishCheckpoint(ledger, key, ORIGIN);
    const old = ok(await t.gql(TRAIL, { patientId: FORMAT_1_PATIENT }, COMPLIANCE)).auditTrail.nodes;
    const expected = FORMAT_1_LEAVES.map((l, i) => ({ fixture: l, index: first! + i, event: JSON.parse(l.text) })).filter((l) => l.event.patientId === FORMAT_1_PATIENT).reverse();
    expect(old.map((n: any) => [n.id, n.ledger.index, n.ledger.leafData, n.ledger.leafHash])).toEqual(expected.map((l) => [l.event.id, l.index, l.fixture.leafData, l.fixture.leafHash]));
    expect(old.find((n: any) => n.kind === 'access.decision')).toMatchObject({
      category: 'LABS',
      action: 'READ',
      purpose: 'TREATMENT',
      decision: 'PERMIT',
      decidedBy: 'base:treating-institution',
      service: 'labs',
      actor: { userId: 'usr_3f8a1c9e', role: 'clinician', institutionId: 'inst_7d2e', practitionerId: 'prac_41c0' },
    });
    for (const node of old) verifyAsOutsider(node);
    // The format-2 leaves appended earlier read the same way, and their bytes say "v":2.
    const newer = ok(await t.gql(TRAIL, { patientId: PATIENT_A, first: 1 }, COMPLIANCE)).auditTrail.nodes[0];
    expect(decodeBase64Strict(newer.ledger.leafData)!.toString('utf8')).toMatch(/,"v":2}$/);
    verifyAsOutsider(newer);
  });
});
