/**
 * The consent engine on its own, on a real consent database: deny overrides permit,
 * validity periods and purposes bind, base policies hold, versions invalidate caches,
 * and a patient's decisions depend on that patient's consents only.
 */
import { grantConsent, revokeConsent } from '../../consent/consents';
import { openConsentDatabase } from '../../consent/database';
import { ConsentEngine, type AccessRequest } from '../../consent/engine';
import { PatientHome } from '../../consent/entities';
import { freshDatabase, type TestDatabase } from '../support/database';
import type { DataSource } from 'typeorm';

let database: TestDatabase;
let db: DataSource;
let engine: ConsentEngine;

beforeAll(async () => {
  database = await freshDatabase();
  db = await openConsentDatabase(database.env);
  await db.getRepository(PatientHome).insert([
    { patientId: 'pat_a', institutionId: 'inst_1' },
    { patientId: 'pat_b', institutionId: 'inst_1' },
  ]);
  engine = new ConsentEngine(db);
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const req = (over: Partial<AccessRequest>): AccessRequest => ({
  principals: 'user:u1|role:clinician@*|practitioner:prac_1|role:clinician@inst_2',
  patientId: 'pat_a',
  category: 'LABS',
  action: 'read',
  purpose: 'TREATMENT',
  at: new Date(),
  ...over,
});
const grant = (over: Partial<Parameters<typeof grantConsent>[1]> = {}) =>
  grantConsent(db, { patientId: 'pat_a', grantee: { kind: 'practitioner', id: 'prac_1' }, categories: ['LABS'], actions: ['read'], purposes: ['TREATMENT'], effect: 'permit', ...over }, 'usr_patient');

test('base policies: self, treating institution, compliance audit; nothing else by default', async () => {
  expect((await engine.may(req({ principals: 'user:p|patient:pat_a', category: 'CONSENT', action: 'write' }))).decidedBy).toBe('base:patient-self');
  expect(await engine.may(req({ principals: 'user:c|role:clinician@inst_1' }))).toMatchObject({ allowed: true, decidedBy: 'base:treating-institution' });
  expect((await engine.may(req({ principals: 'user:c|role:clinician@inst_1', purpose: 'RESEARCH' }))).allowed).toBe(false);
  expect(await engine.may(req({ principals: 'user:o|role:compliance@*', category: 'AUDIT', purpose: 'OPERATIONS' }))).toMatchObject({ allowed: true, decidedBy: 'base:compliance-audit' });
  expect((await engine.may(req({ principals: 'user:o|role:compliance@*', category: 'LABS', purpose: 'OPERATIONS' }))).allowed).toBe(false);
  expect(await engine.may(req({}))).toMatchObject({ allowed: false, decidedBy: 'default-deny' });
});

test('a consent permits; a later denial overrides it; revoking the denial restores it; versions move', async () => {
  const { consent: permit, version: v1 } = await grant();
  expect(await engine.may(req({}))).toMatchObject({ allowed: true, decidedBy: `consent:${permit.id}`, version: v1 });
  const { consent: deny, version: v2 } = await grant({ grantee: { kind: 'role', id: 'clinician@inst_2' }, effect: 'deny' });
  expect(v2).toBe(v1 + 1);
  expect(await engine.may(req({}))).toMatchObject({ allowed: false, decidedBy: `consent:${deny.id}`, version: v2 });
  await revokeConsent(db, 'pat_a', deny.id, 'usr_patient');
  expect((await engine.may(req({}))).allowed).toBe(true);
  await revokeConsent(db, 'pat_a', permit.id, 'usr_patient');
  expect((await engine.may(req({}))).allowed).toBe(false);
});

test('validity periods, purposes, actions and categories bind', async () => {
  const inAnHour = new Date(Date.now() + 3_600_000);
  await grant({ validFrom: inAnHour, validUntil: new Date(Date.now() + 7_200_000) });
  expect((await engine.may(req({}))).allowed).toBe(false);
  expect((await engine.may(req({ at: new Date(inAnHour.getTime() + 60_000) }))).allowed).toBe(true);
  expect((await engine.may(req({ at: new Date(Date.now() + 3 * 3_600_000) }))).allowed).toBe(false);
  expect((await engine.may(req({ at: new Date(inAnHour.getTime() + 60_000), purpose: 'RESEARCH' }))).allowed).toBe(false);
  expect((await engine.may(req({ at: new Date(inAnHour.getTime() + 60_000), action: 'write' }))).allowed).toBe(false);
  expect((await engine.may(req({ at: new Date(inAnHour.getTime() + 60_000), category: 'DEVICES' }))).allowed).toBe(false);
});

test('exceptions become row exclusions of the permission they narrow', async () => {
  const { consent } = await grant({ purposes: ['EMERGENCY'], exceptions: [{ loincClass: 'HEM/BC' }, { dataFrom: new Date('2020-01-01'), dataUntil: new Date('2021-01-01') }] });
  const d = await engine.may(req({ purpose: 'EMERGENCY' }));
  expect(d).toMatchObject({ allowed: true, decidedBy: `consent:${consent.id}` });
  expect(d.exclusions.map((e) => [e.loincClass, e.from?.toISOString() ?? null])).toEqual([
    ['HEM/BC', null],
    [null, '2020-01-01T00:00:00.000Z'],
  ]);
});

test("one patient's consents never change another's decisions, and a cached policy is used only at its version", async () => {
  const before = await engine.may(req({ patientId: 'pat_b' }));
  for (let i = 0; i < 50; i++) await grant({ grantee: { kind: 'practitioner', id: `prac_${i}` } });
  const after = await engine.may(req({ patientId: 'pat_b' }));
  expect(after).toEqual(before);
  const policies = await engine.policies(['pat_b']);
  expect((await policies.get('pat_b')!.enforcer.getPolicy()).length).toBe(3); // the base policies only

  // A second engine (another process) caches pat_a; a change made through the first is seen at once.
  const other = new ConsentEngine(db);
  const cached = await other.may(req({ principals: 'user:z|practitioner:prac_z' }));
  expect(cached.allowed).toBe(false);
  await grant({ grantee: { kind: 'practitioner', id: 'prac_z' } });
  expect((await other.may(req({ principals: 'user:z|practitioner:prac_z' }))).allowed).toBe(true);
});
