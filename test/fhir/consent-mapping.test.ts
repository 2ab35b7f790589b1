/**
 * The one Consent mapping (consent/fhir.ts), as the patients subgraph (`Consent.fhir`,
 * dates as Date) and the FHIR API (after a GraphQL query, dates as strings) call it:
 * every shape a consent can take is valid R4 with zero errors, and both inputs give the
 * same resource. The hub-level tests (research-audit.test.ts, consent-flow.test.ts) check
 * the same on served consents.
 */
import { toFhirConsent, type ConsentView } from '../../consent/fhir';
import { r4Errors } from './support';

const base: ConsentView = {
  id: 'cns_0123456789abcdef0123',
  patientId: 'pat_aaaaaaaaaaaaaaaaaaaa',
  grantee: { kind: 'PRACTITIONER', id: 'prac_bbbbbbbbbbbbbbbbbbbb' },
  categories: ['LABS'],
  actions: ['READ'],
  purposes: ['TREATMENT'],
  effect: 'PERMIT',
  validFrom: new Date('2026-01-01T00:00:00Z'),
  validUntil: null,
  identified: false,
  status: 'ACTIVE',
  createdAt: new Date('2026-01-01T00:00:00Z'),
  exceptions: [],
};

const shapes: [string, ConsentView][] = [
  ['a permit to a practitioner', base],
  ['a denial to every clinician of an institution', { ...base, effect: 'DENY', grantee: { kind: 'ROLE', id: 'clinician@inst_cccccccccccccccccccc' } }],
  ['a pseudonymous research consent with two exceptions', {
    ...base,
    grantee: { kind: 'PROJECT', id: 'proj_dddddddddddddddddddd' },
    categories: ['LABS', 'DEVICES', 'RESEARCH'],
    purposes: ['RESEARCH'],
    validUntil: new Date('2027-01-01T00:00:00Z'),
    exceptions: [
      { categories: ['LABS'], loincClass: 'CHEM', dataFrom: null, dataUntil: null },
      { categories: ['LABS', 'DEVICES'], loincClass: null, dataFrom: new Date('2025-01-01T00:00:00Z'), dataUntil: new Date('2025-06-01T00:00:00Z') },
    ],
  }],
  ['a revoked, identified research consent, read and write', { ...base, grantee: { kind: 'PROJECT', id: 'proj_dddddddddddddddddddd' }, identified: true, status: 'REVOKED', actions: ['READ', 'WRITE'], purposes: ['RESEARCH', 'OPERATIONS'] }],
];

test.each(shapes)('%s is valid R4, with a policyRule, scope, category and nested deny provisions', (_, view) => {
  const fhir = toFhirConsent(view);
  expect(r4Errors(fhir)).toEqual([]);
  expect(fhir.id).toBe('cns-0123456789abcdef0123');
  expect(fhir).toMatchObject({ scope: { coding: [{ code: view.grantee.kind === 'PROJECT' ? 'research' : 'patient-privacy' }] }, category: [{ coding: [{ code: '59284-0' }] }] });
  expect((fhir.policyRule as any).coding[0].code).toBe(view.effect === 'PERMIT' ? 'OPTIN' : 'OPTOUT');
  const provision = fhir.provision as any;
  expect(provision.actor).toHaveLength(1);
  expect(provision.purpose.length).toBe(view.purposes.length);
  expect(provision.class.map((c: any) => c.code)).toEqual(view.categories);
  expect((provision.provision ?? []).map((p: any) => p.type)).toEqual(view.exceptions.map(() => 'deny'));
  // What the FHIR API passes (the same consent after GraphQL: dates as ISO strings) maps the same.
  const asServed = JSON.parse(JSON.stringify(view)) as ConsentView;
  expect(toFhirConsent(asServed)).toEqual(fhir);
});

test('the pre-issue-13 shape (no policy, hub ids with `_`) is invalid R4: the validator catches what the mapping fixed', () => {
  const old = { ...toFhirConsent(base), id: base.id } as Record<string, unknown>;
  delete old.policyRule;
  expect(r4Errors(old).length).toBeGreaterThan(0);
});
