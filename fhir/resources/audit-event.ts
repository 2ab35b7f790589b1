/**
 * AuditEvent ← the ledger, through the audit subgraph: `auditTrail` for the compliance
 * role (purpose OPERATIONS; every event, optionally one patient's), `Patient.accessLog`
 * for anyone else — which the audit subgraph serves to the patient themself (AUDIT of
 * their own data) and to compliance, and refuses to everybody else, so a clinician
 * asking for another patient's events gets the same 403 as for an unknown patient.
 * Newest first (or oldest first, `_sort=date`), paged by the leaf index (the GraphQL cursor). A read by id (`auditEvent`)
 * answers whoever could find the event by searching, and 404 to anyone else, as unknown.
 *
 * Shaped after the IHE Basic Audit Log Patterns (BALP) read event: type `rest`, subtype
 * the FHIR interaction, action R (U for a write), the user as the requestor agent and the
 * hub service as the other, `source.observer` the service that decided, the patient as
 * entity (role Patient, the data category as its security label). BALP's query entity
 * (the query text, base64) has no counterpart: the ledger never holds client-chosen text
 * (ARCHITECTURE.md, privacy rules), and a decision does not record whether the request
 * was a read or a search, so every access is a `read` of that patient's data of one
 * category. Each event carries its leaf as a second entity: the leaf index, the leaf
 * hash, and the URL of its inclusion proof against the latest published checkpoint
 * (GET /ledger/proof/inclusion?index=I&treeSize=N), which anyone can verify against the
 * signed root at /ledger/checkpoint.
 *
 * `total` is the GraphQL `totalCount`: exact for one patient's events; absent for the
 * compliance role's whole trail, which GraphQL does not count (any patient's events might
 * be withheld there by the AUDIT policy, and a total must not count them).
 */
import { EVENT_ID } from '../../ledger/core/leaf';
import { referencedHubId, toFhirId, toHubId } from '../ids';
import { forbiddenSearch, invalid, notFound } from '../outcome';
import type { FhirContext, Resource, ResourceModule, SearchPage } from '../resource';
import type { SearchQuery } from '../search';
import { fetchData } from '../supergraph';
import { ACT_REASON, DATA_CATEGORY, PURPOSE_CODES, ref } from '../terminology';
import { PATIENT_PREFIXES } from './patient';

const FIELDS =
  'id kind at patientId category action purpose decision decidedBy service actor { userId role practitionerId } ledger { index leafHash inclusion { treeSize } }';
const PAGE = `totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { ${FIELDS} }`;

interface AuditNode {
  id: string;
  kind: string;
  at: string;
  patientId: string | null;
  category: string | null;
  action: 'READ' | 'WRITE' | null;
  purpose: string | null;
  decision: 'PERMIT' | 'DENY' | null;
  decidedBy: string | null;
  service: string | null;
  actor: { userId: string; role: string | null; practitionerId: string | null } | null;
  ledger: { index: number; leafHash: string; inclusion: { treeSize: number } | null };
}
interface Connection {
  totalCount: number | null;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  nodes: AuditNode[];
}

/**
 * An event id as a FHIR id, reversibly. Ids newId made (`evt_<hex>`) read as every hub id
 * does (`evt-<hex>`, ids.ts). The ledger holds others too — a rejected outbox row's
 * stand-in is `evt_rej_<hex>` (ledger/pipeline/relay.ts), and leaf.ts accepts any
 * [A-Za-z][A-Za-z0-9_-]* — which FHIR's alphabet ([A-Za-z0-9-.]) cannot hold as they are:
 * those are written `x.` and the id with `.` for `_`. No event id has a `.`, and no hub
 * id's FHIR form starts with `x.`, so every one reads back.
 */
export function auditEventId(eventId: string): string {
  return /^evt_[0-9a-f]{1,56}$/.test(eventId) ? toFhirId(eventId) : `x.${eventId.replaceAll('_', '.')}`;
}

/** The event id of an AuditEvent's FHIR id, or null when it names none (only the one form auditEventId writes reads back). */
export function eventIdOf(fhirId: string): string | null {
  const id = fhirId.startsWith('x.') ? fhirId.slice(2).replaceAll('.', '_') : toHubId(fhirId, ['evt']);
  return id !== null && EVENT_ID.test(id) && auditEventId(id) === fhirId ? id : null;
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const USER = 'urn:custodian:user';
const SERVICE = 'urn:custodian:service';

function agents(e: AuditNode) {
  const purposeOfUse = e.purpose ? [{ coding: [{ system: ACT_REASON, code: PURPOSE_CODES[e.purpose] ?? e.purpose }] }] : undefined;
  const user = e.actor
    ? [
        {
          type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type', code: 'humanuser', display: 'human user' }] },
          ...(e.actor.role ? { role: [{ text: e.actor.role }] } : {}),
          who: e.actor.practitionerId
            ? { ...ref('Practitioner', toFhirId(e.actor.practitionerId)), identifier: { system: USER, value: e.actor.userId } }
            : { identifier: { system: USER, value: e.actor.userId } },
          requestor: true,
          ...(purposeOfUse ? { purposeOfUse } : {}),
        },
      ]
    : [];
  const server = {
    type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] },
    who: { identifier: { system: SERVICE, value: e.service ?? 'hub' }, display: `Custodian ${e.service ?? 'hub'} service` },
    requestor: false,
  };
  return [...user, server];
}

export function toAuditEvent(e: AuditNode, origin: string): Resource {
  const access = e.kind === 'access.decision';
  const write = e.action === 'WRITE';
  const proof = e.ledger.inclusion ? `${origin}/ledger/proof/inclusion?index=${e.ledger.index}&treeSize=${e.ledger.inclusion.treeSize}` : null;
  return {
    resourceType: 'AuditEvent',
    id: auditEventId(e.id),
    type: access
      ? { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' }
      : { system: 'urn:custodian:ledger-event-kind', code: e.kind },
    ...(access ? { subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: write ? 'update' : 'read', display: write ? 'update' : 'read' }] } : {}),
    action: access ? (write ? 'U' : 'R') : 'E',
    recorded: new Date(e.at).toISOString(),
    // 0 success; 4 minor failure: the gate refused (BALP records refusals as failures).
    outcome: e.decision === 'DENY' ? '4' : '0',
    ...(e.decidedBy ? { outcomeDesc: `${e.decision === 'DENY' ? 'denied' : 'permitted'} by ${e.decidedBy}` } : {}),
    ...(e.purpose ? { purposeOfEvent: [{ coding: [{ system: ACT_REASON, code: PURPOSE_CODES[e.purpose] ?? e.purpose }] }] } : {}),
    agent: agents(e),
    source: {
      site: 'Custodian',
      observer: { identifier: { system: SERVICE, value: e.service ?? 'hub' }, display: `Custodian ${e.service ?? 'hub'} service` },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    entity: [
      ...(e.patientId
        ? [
            {
              what: ref('Patient', toFhirId(e.patientId)),
              type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
              role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
              ...(e.category ? { securityLabel: [{ system: DATA_CATEGORY, code: e.category }] } : {}),
            },
          ]
        : []),
      {
        what: { identifier: { system: `${origin}/ledger/entries`, value: String(e.ledger.index) }, display: `ledger leaf ${e.ledger.index}` },
        type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '4', display: 'Other' },
        description: 'The RFC 6962 ledger leaf this event is, and where to prove it is in the signed log',
        detail: [
          { type: 'leafIndex', valueString: String(e.ledger.index) },
          { type: 'leafHash', valueBase64Binary: e.ledger.leafHash },
          ...(proof ? [{ type: 'inclusionProof', valueString: proof }, { type: 'checkpoint', valueString: `${origin}/ledger/checkpoint` }] : []),
        ],
      },
    ],
  };
}

/** One event by id (`auditEvent`): to those who could find it by searching; 404 to anyone else, as unknown. */
async function read(ctx: FhirContext, fhirId: string): Promise<Resource> {
  const id = eventIdOf(fhirId);
  const denied = () => notFound('AuditEvent', fhirId);
  if (!id) throw denied();
  const data = await fetchData<{ auditEvent: AuditNode | null }>(ctx.run, `query FhirAuditEvent($id: ID!) { auditEvent(id: $id) { ${FIELDS} } }`, { id }, { denied });
  if (!data.auditEvent) throw denied();
  return toAuditEvent(data.auditEvent, ctx.origin);
}

async function search(ctx: FhirContext, q: SearchQuery): Promise<SearchPage> {
  const given = q.get('patient');
  const compliance = ctx.principal.user.role === 'compliance';
  const own = ctx.principal.user.role === 'patient' ? ctx.principal.user.patientId : null;
  const patientId = given !== undefined ? referencedHubId(given, 'Patient', PATIENT_PREFIXES) : own;
  if (!patientId && !compliance) throw invalid('AuditEvent searches need patient (Patient/pat-…), except for the compliance role');
  // Newest first pages forward (`first`/`after`); oldest first (`_sort=date`) pages from the
  // other end of the same newest-first list (`last`/`before`), each page flipped.
  const oldestFirst = q.sort === 'date';
  const cursor = (key: 'after' | 'before') => (typeof q.cursor?.[key] === 'string' ? (q.cursor[key] as string) : null);
  const vars = {
    patient: patientId,
    from: q.dates.since?.toISOString() ?? null,
    to: q.dates.until?.toISOString() ?? null,
    ...(oldestFirst ? { last: q.count, before: cursor('before') } : { first: q.count, after: cursor('after') }),
  };
  if (vars.from && vars.to && vars.from >= vars.to) return { resources: [], total: 0 };
  const denied = () => forbiddenSearch('these audit events');
  const args = '$from: DateTime, $to: DateTime, $first: Int, $after: String, $last: Int, $before: String';
  const page = 'from: $from, to: $to, first: $first, after: $after, last: $last, before: $before';
  let c: Connection | null | undefined;
  if (compliance) {
    const data = await fetchData<{ auditTrail: Connection | null }>(
      ctx.run,
      `query FhirAuditTrail($patient: ID, ${args}) { auditTrail(patientId: $patient, ${page}) { ${PAGE} } }`,
      vars,
      { denied },
    );
    c = data.auditTrail;
  } else {
    const data = await fetchData<{ patient: { accessLog: Connection | null } | null }>(
      ctx.run,
      `query FhirAccessLog($patient: ID!, ${args}) { patient(id: $patient) { accessLog(${page}) { ${PAGE} } } }`,
      vars,
      { denied },
    );
    c = data.patient?.accessLog;
  }
  if (!c) throw denied();
  const { pageInfo } = c;
  const nodes = oldestFirst ? [...c.nodes].reverse() : c.nodes;
  const next = oldestFirst
    ? pageInfo.hasPreviousPage && pageInfo.startCursor && { before: pageInfo.startCursor }
    : pageInfo.hasNextPage && pageInfo.endCursor && { after: pageInfo.endCursor };
  return { resources: nodes.map((e) => toAuditEvent(e, ctx.origin)), ...(c.totalCount === null ? {} : { total: c.totalCount }), next: next || undefined };
}

export const auditEvent: ResourceModule = {
  type: 'AuditEvent',
  documentation:
    "The ledger, shaped after IHE BALP read events: each with its leaf index, leaf hash and the URL of its inclusion proof. The compliance role (X-Purpose-Of-Use: OPERATIONS) sees every event; a patient searches who accessed their data (without their own reads) and reads any access decision about it by id; nobody else sees any (a read answers 404, as for an unknown id). Newest first, or oldest first with _sort=date; total for one patient's events, none for the whole trail.",
  params: [
    { name: 'patient', type: 'reference', documentation: "The patient whose data was accessed (Patient/pat-…); required except for compliance; a patient's own by default." },
    { name: 'date', type: 'date', documentation: 'recorded, with eq, ge, gt, le, lt; may repeat.' },
  ],
  sortsByDate: true,
  read,
  search,
};
