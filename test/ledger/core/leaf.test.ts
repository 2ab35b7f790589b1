/**
 * What becomes a ledger leaf: the allow-list keeps opaque ids and decision vocabulary,
 * folds everything else into a digest, and the bytes are RFC 8785 canonical JSON.
 */
import { hash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { encodeLeaf, ledgerEventFromOutbox, leafBytes, payloadDigest, redactEvent, LedgerEventError } from '../../../ledger/core/leaf';
import { refLeafHash } from '../../support/ledger';

const createdAt = new Date('2026-03-01T10:00:00.000Z');

const decision = {
  at: '2026-03-01T09:59:59.123Z',
  service: 'labs',
  requestId: 'req_0a1b2c',
  subject: 'usr_1f2e3d',
  role: 'clinician',
  patientId: 'pat_9a8b7c',
  category: 'LAB_RESULTS',
  action: 'read',
  purpose: 'TREATMENT',
  decision: 'permit',
  decidedBy: 'consent:cns_77aa',
  consentVersion: 4,
};

describe('ledger events from outbox rows', () => {
  test('an access decision passes through whole, under the row id and kind', () => {
    const event = ledgerEventFromOutbox({ id: 'evt_0001', kind: 'access.decision', payload: JSON.stringify(decision), createdAt });
    expect(event).toEqual({ ...decision, id: 'evt_0001', kind: 'access.decision' });
    expect(event).not.toHaveProperty('payloadDigest');
  });

  test('clinical values and names are folded into a digest of exactly what was removed', () => {
    const payload = { patientId: 'pat_9a8b7c', deviceId: 'dev_42', readingCount: 3, value: 7.2, unit: 'mmol/L', note: 'Jane Doe felt dizzy' };
    const event = ledgerEventFromOutbox({ id: 'evt_0002', kind: 'readings.ingested', payload: JSON.stringify(payload), createdAt });
    expect(event).toEqual({
      id: 'evt_0002',
      kind: 'readings.ingested',
      at: createdAt.toISOString(),
      patientId: 'pat_9a8b7c',
      deviceId: 'dev_42',
      readingCount: 3,
      payloadDigest: payloadDigest({ value: 7.2, unit: 'mmol/L', note: 'Jane Doe felt dizzy' }),
    });
    const text = leafBytes(event).toString('utf8');
    for (const secret of ['7.2', 'mmol', 'Jane', 'dizzy']) expect(text).not.toContain(secret);
    // The digest is SHA-256 over the RFC 8785 form, so the holder of the payload can recompute it.
    const expected = hash('sha256', canonicalize({ note: 'Jane Doe felt dizzy', unit: 'mmol/L', value: 7.2 })!, 'base64');
    expect(event.payloadDigest).toBe(expected);
  });

  test('an allowed key with an unexpected value is folded too', () => {
    const event = redactEvent({
      id: 'evt_0003',
      kind: 'k',
      at: '2026-03-01T00:00:00Z',
      category: { loinc: '2345-7', value: 99 },
      patientId: 'John Smith',
      memberIds: ['prj_1', 'has space'],
      count: -1,
      decision: 'line one\nline two',
    });
    expect(Object.keys(event).sort()).toEqual(['at', 'id', 'kind', 'payloadDigest']);
  });

  test('the payload cannot replace the event id or kind, or forge a digest', () => {
    const event = ledgerEventFromOutbox({
      id: 'evt_0004',
      kind: 'consent.granted',
      payload: JSON.stringify({ id: 'evt_other', kind: 'other', payloadDigest: 'not a digest', patientId: 'pat_1' }),
      createdAt,
    });
    expect(event.id).toBe('evt_0004');
    expect(event.kind).toBe('consent.granted');
    expect(event.payloadDigest).toBe(payloadDigest({ id: 'evt_other', kind: 'other', payloadDigest: 'not a digest' }));
  });

  test('`at` is the payload instant when valid, else the recording time (and an invalid one is folded)', () => {
    const event = ledgerEventFromOutbox({ id: 'evt_0005', kind: 'k', payload: JSON.stringify({ at: 'yesterday' }), createdAt });
    expect(event.at).toBe(createdAt.toISOString());
    expect(event.payloadDigest).toBe(payloadDigest({ at: 'yesterday' }));
  });

  test('a payload that is not a JSON object is folded whole', () => {
    const notJson = ledgerEventFromOutbox({ id: 'evt_0006', kind: 'k', payload: 'glucose 7.2', createdAt });
    expect(notJson.payloadDigest).toBe(payloadDigest({ payload: 'glucose 7.2' }));
    const list = ledgerEventFromOutbox({ id: 'evt_0007', kind: 'k', payload: '[1,2]', createdAt });
    expect(list.payloadDigest).toBe(payloadDigest({ payload: [1, 2] }));
  });

  test('redaction is idempotent, so the worker can re-apply it', () => {
    const once = ledgerEventFromOutbox({ id: 'evt_0008', kind: 'k', payload: JSON.stringify({ ...decision, value: 1 }), createdAt });
    expect(redactEvent({ ...once })).toEqual(once);
    // New unexpected fields on an already redacted event are committed to together with the old digest.
    const again = redactEvent({ ...once, extra: 'x' });
    expect(again.payloadDigest).toBe(payloadDigest({ extra: 'x', payloadDigest: once.payloadDigest }));
  });

  test('ids that could not be job ids or column values are refused', () => {
    for (const id of ['', '12:34', 'has space', 'x'.repeat(41)]) {
      expect(() => redactEvent({ id, kind: 'k', at: '2026-03-01T00:00:00Z' })).toThrow(LedgerEventError);
    }
    expect(() => redactEvent({ id: 'evt_1', kind: 'k' })).toThrow(LedgerEventError);
  });

  test('leaf bytes are RFC 8785: sorted keys, no white space, UTF-8, and hash as an RFC 6962 leaf (format 1)', () => {
    const event = redactEvent({ id: 'evt_0009', kind: 'k', at: '2026-03-01T00:00:00Z', role: 'médecin', count: 2, category: 'Ä' });
    const leaf = encodeLeaf(event, 1);
    expect(leaf.text).toBe('{"at":"2026-03-01T00:00:00Z","category":"Ä","count":2,"id":"evt_0009","kind":"k","role":"médecin"}');
    expect(leaf.data.equals(Buffer.from(leaf.text, 'utf8'))).toBe(true);
    expect(leaf.hash.equals(refLeafHash(leaf.data))).toBe(true);
  });
});
