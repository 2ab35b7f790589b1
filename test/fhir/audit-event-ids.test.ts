/**
 * AuditEvent ids (fhir/resources/audit-event.ts): every id the ledger can hold
 * (ledger/core/leaf.ts EVENT_ID) is a valid FHIR id and reads back to itself, and no two
 * event ids share a FHIR id; a FHIR id that names no event is null, not an error.
 */
import { auditEventId, eventIdOf } from '../../fhir/resources/audit-event';

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

test('every kind of event id is a FHIR id that reads back', () => {
  const ids = [
    'evt_0a1b2c3d4e5f60718293', // what newId makes
    'evt_rej_0123456789abcdef01234567', // a rejected outbox row's stand-in (ledger/pipeline/relay.ts)
    'evt_audit_0001',
    'evt-0a1b', // a hyphen of its own: not the FHIR form of evt_0a1b
    'evt_0a1b',
    'A',
    'x_y',
    `e${'_'.repeat(39)}`,
  ];
  const fhirIds = ids.map(auditEventId);
  for (const [i, f] of fhirIds.entries()) expect([ids[i], FHIR_ID.test(f), eventIdOf(f)]).toEqual([ids[i], true, ids[i]]);
  expect(new Set(fhirIds).size).toBe(ids.length);
  expect(auditEventId('evt_0a1b')).toBe('evt-0a1b');
  expect(auditEventId('evt_rej_0123')).toBe('x.evt.rej.0123');
});

test('a FHIR id that names no event is null', () => {
  for (const f of ['pat-0a1b', 'x.', 'x.1abc', 'x.a b', 'evt-', 'evt-XYZ', '', 'x.evt_rej', 'x.evt.0a1b' /* evt_0a1b is evt-0a1b */]) expect([f, eventIdOf(f)]).toEqual([f, null]);
});
