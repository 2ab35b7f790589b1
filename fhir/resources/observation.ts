/**
 * Observation ← lab results (category laboratory: `LabResult`, labs subgraph) and device
 * readings (category vital-signs: `DeviceReading`, devices subgraph).
 *
 * A search is over one patient, and pages through several sources at once — the
 * patient's lab results and each of their devices' readings — each paged in SQL by its
 * own subgraph in the order asked for (`oldestFirst`). Every page asks each open source
 * for `_count` rows after its own cursor, merges by date and keeps `_count`: exactly the
 * global order, since a row a source did not send ranks after all it sent. The `next`
 * link carries each source's cursor. One GraphQL operation per FHIR page.
 */
import { toFhirId, toHubId, referencedHubId } from '../ids';
import { forbiddenSearch, invalid, notFound } from '../outcome';
import type { FhirContext, Resource, ResourceModule, SearchPage } from '../resource';
import type { SearchQuery } from '../search';
import { fetchData } from '../supergraph';
import { ref } from '../terminology';
import { labContent, METRIC_BY_CODE, parseCategory, parseCode, readingContent, type LabNode, type ReadingNode } from './observation-content';
import { PATIENT_PREFIXES } from './patient';
import { researchSubjectReference, searchResearchObservations } from './research-observation';

const LAB_FIELDS = 'id code { code display } value unit referenceRange { low high unit } interpretation status effectiveAt issuer { id }';
const READING_FIELDS = 'id metric value unit recordedAt';

interface Edges<T> {
  totalCount: number;
  pageInfo: { hasNextPage: boolean };
  edges: { cursor: string; node: T }[];
}


export function labObservation(r: LabNode, patientId: string): Resource {
  const { resourceType, status, category: cat, code, ...rest } = labContent(r);
  return { resourceType, id: toFhirId(r.id), status, category: cat, code, subject: ref('Patient', toFhirId(patientId)), ...rest, performer: [ref('Organization', toFhirId(r.issuer.id))] };
}


export function readingObservation(r: ReadingNode, deviceId: string, patientId: string): Resource {
  const { resourceType, status, category: cat, code, ...rest } = readingContent(r);
  return { resourceType, id: toFhirId(r.id), status, category: cat, code, subject: ref('Patient', toFhirId(patientId)), ...rest, device: ref('Device', toFhirId(deviceId)) };
}

async function read(ctx: FhirContext, fhirId: string): Promise<Resource> {
  const denied = () => notFound('Observation', fhirId);
  const lab = toHubId(fhirId, ['lab']);
  const reading = toHubId(fhirId, ['rdg']);
  if (lab) {
    const data = await fetchData<{ labResult: (LabNode & { patient: { id: string } }) | null }>(
      ctx.run,
      `query FhirLabObservation($id: ID!) { labResult(id: $id) { ${LAB_FIELDS} patient { id } } }`,
      { id: lab },
      { denied },
    );
    if (!data.labResult) throw denied();
    return labObservation(data.labResult, data.labResult.patient.id);
  }
  if (reading) {
    const data = await fetchData<{ deviceReading: (ReadingNode & { device: { id: string; owner: { id: string } } }) | null }>(
      ctx.run,
      `query FhirReadingObservation($id: ID!) { deviceReading(id: $id) { ${READING_FIELDS} device { id owner { id } } } }`,
      { id: reading },
      { denied },
    );
    if (!data.deviceReading) throw denied();
    return readingObservation(data.deviceReading, data.deviceReading.device.id, data.deviceReading.device.owner.id);
  }
  throw denied();
}

/** Where the search is at: each open source's cursor (null: from the start), the order, the total. */
interface State {
  labs?: string | null;
  devices: Record<string, string | null>;
  total: number;
}

interface Item {
  source: string;
  cursor: string;
  at: string;
  resource: Resource;
}


const PAGE_ARGS = 'since: $since, until: $until, oldestFirst: $oldest, first: $first';
const LABS_SELECTION = `totalCount pageInfo { hasNextPage } edges { cursor node { ${LAB_FIELDS} } }`;
const READINGS_SELECTION = `totalCount pageInfo { hasNextPage } edges { cursor node { ${READING_FIELDS} } }`;

async function search(ctx: FhirContext, q: SearchQuery): Promise<SearchPage> {
  const subject = q.get('patient') ?? q.get('subject');
  if (q.get('patient') !== undefined && q.get('subject') !== undefined) throw invalid('Give patient or subject, not both');
  if (subject === undefined) throw invalid('Observation searches need patient (or subject): the hub answers per patient or research subject');
  const researchSubject = q.get('subject') !== undefined ? researchSubjectReference(subject) : null;
  if (researchSubject) return searchResearchObservations(ctx, q, subject, researchSubject);
  const patientId = referencedHubId(subject, 'Patient', PATIENT_PREFIXES);
  const code = parseCode(q.get('code'));
  const wanted = parseCategory(q.get('category'));
  const metric = code.loinc ? (METRIC_BY_CODE.get(code.loinc) ?? null) : null;
  const labs = wanted.labs && !code.none;
  // A code that is no device metric matches no reading.
  const vitals = wanted.vitals && !code.none && (!code.loinc || metric !== null);
  const common = {
    since: q.dates.since?.toISOString() ?? null,
    until: q.dates.until?.toISOString() ?? null,
    oldest: q.sort === 'date',
    first: q.count,
  };
  if (common.since && common.until && common.since >= common.until) return { resources: [], total: 0 };
  const denied = () => forbiddenSearch(`this patient's observations`);
  const items: Item[] = [];
  const hasMore = new Map<string, boolean>();
  let state: State;
  const state0 = q.cursor as unknown as State | undefined;

  if (!labs && !vitals) return { resources: [], total: 0 };
  if (!state0) {
    // First page: one operation over the patient, every source from its start.
    const data = await fetchData<{ patient: { labResults?: Edges<LabNode> | null; devices?: { id: string; readings: Edges<ReadingNode> }[] | null } | null }>(
      ctx.run,
      `query FhirObservations($patient: ID!, $labs: Boolean!, $vitals: Boolean!, $code: String, $metric: Metric, $since: DateTime, $until: DateTime, $oldest: Boolean, $first: Int) {
        patient(id: $patient) {
          labResults(code: $code, ${PAGE_ARGS}) @include(if: $labs) { ${LABS_SELECTION} }
          devices @include(if: $vitals) { id readings(metric: $metric, ${PAGE_ARGS}) { ${READINGS_SELECTION} } }
        }
      }`,
      { patient: patientId, labs, vitals, code: code.loinc ?? null, metric, ...common },
      { denied },
    );
    if (!data.patient) throw denied();
    state = { devices: {}, total: 0 };
    if (labs) {
      const c = data.patient.labResults!;
      state.labs = null;
      state.total += c.totalCount;
      collectLabs(items, c, patientId, hasMore);
    }
    for (const d of vitals ? data.patient.devices! : []) {
      state.devices[d.id] = null;
      state.total += d.readings.totalCount;
      collectReadings(items, d.id, d.readings, patientId, hasMore);
    }
  } else {
    state = validState(state0);
    const deviceIds = Object.keys(state.devices);
    const vars: Record<string, unknown> = { patient: patientId, code: code.loinc ?? null, metric, ...common };
    const parts: string[] = [];
    const decl = ['$since: DateTime', '$until: DateTime', '$oldest: Boolean', '$first: Int'];
    if (state.labs !== undefined) {
      decl.push('$patient: ID!', '$code: String', '$labsAfter: String');
      vars.labsAfter = state.labs;
      parts.push(`patient(id: $patient) { labResults(code: $code, after: $labsAfter, ${PAGE_ARGS}) { ${LABS_SELECTION} } }`);
    }
    if (deviceIds.length) decl.push('$metric: Metric');
    deviceIds.forEach((id, i) => {
      decl.push(`$d${i}: ID!`, `$a${i}: String`);
      vars[`d${i}`] = id;
      vars[`a${i}`] = state.devices[id];
      parts.push(`d${i}: device(id: $d${i}) { id owner { id } readings(metric: $metric, after: $a${i}, ${PAGE_ARGS}) { ${READINGS_SELECTION} } }`);
    });
    const used = decl.filter((d) => parts.some((p) => p.includes(`${d.split(':')[0]}`)));
    const data = await fetchData<Record<string, unknown>>(ctx.run, `query FhirObservationsNext(${used.join(', ')}) { ${parts.join(' ')} }`, vars, { denied });
    if (state.labs !== undefined) {
      const p = data.patient as { labResults: Edges<LabNode> | null } | null;
      if (!p?.labResults) throw denied();
      collectLabs(items, p.labResults, patientId, hasMore);
    }
    deviceIds.forEach((id, i) => {
      const d = data[`d${i}`] as { owner: { id: string }; readings: Edges<ReadingNode> } | null;
      // A cursor names the patient's devices: one of another patient's is refused like a hidden one.
      if (!d || d.owner.id !== patientId) throw denied();
      collectReadings(items, id, d.readings, patientId, hasMore);
    });
  }

  const newestFirst = !common.oldest;
  // Ties on the instant are broken by id in the same direction, as each subgraph sorts
  // (readings of two metrics share an instant): a source's rows stay in its own order.
  const key = (i: Item) => `${i.at} ${i.resource.id}`;
  items.sort((a, b) => (key(a) === key(b) ? 0 : (key(a) < key(b) ? -1 : 1) * (newestFirst ? -1 : 1)));
  const page = items.slice(0, q.count);
  const next: State = { devices: {}, total: state.total };
  const sources = [...(state.labs !== undefined ? ['labs'] : []), ...Object.keys(state.devices)];
  for (const source of sources) {
    const taken = page.filter((i) => i.source === source);
    const fetched = items.filter((i) => i.source === source).length;
    if (taken.length === fetched && !hasMore.get(source)) continue; // exhausted
    const after = taken.length ? taken[taken.length - 1]!.cursor : source === 'labs' ? state.labs! : state.devices[source]!;
    if (source === 'labs') next.labs = after;
    else next.devices[source] = after;
  }
  const open = next.labs !== undefined || Object.keys(next.devices).length > 0;
  return { resources: page.map((i) => i.resource), total: state.total, next: open ? (next as unknown as Record<string, unknown>) : undefined };
}

function collectLabs(items: Item[], c: Edges<LabNode>, patientId: string, hasMore: Map<string, boolean>) {
  hasMore.set('labs', c.pageInfo.hasNextPage);
  for (const e of c.edges) items.push({ source: 'labs', cursor: e.cursor, at: new Date(e.node.effectiveAt).toISOString(), resource: labObservation(e.node, patientId) });
}

function collectReadings(items: Item[], deviceId: string, c: Edges<ReadingNode>, patientId: string, hasMore: Map<string, boolean>) {
  hasMore.set(deviceId, c.pageInfo.hasNextPage);
  for (const e of c.edges) items.push({ source: deviceId, cursor: e.cursor, at: new Date(e.node.recordedAt).toISOString(), resource: readingObservation(e.node, deviceId, patientId) });
}

/** A decoded cursor is client input: only the shape we wrote is accepted. */
function validState(raw: State): State {
  const str = (v: unknown) => v === null || typeof v === 'string';
  const ok =
    typeof raw.total === 'number' &&
    (raw.labs === undefined || str(raw.labs)) &&
    typeof raw.devices === 'object' &&
    raw.devices !== null &&
    Object.keys(raw.devices).length <= 20 &&
    Object.entries(raw.devices).every(([k, v]) => /^dev_[0-9a-f]{1,56}$/.test(k) && str(v));
  if (!ok) throw invalid('Malformed _cursor: follow a next link exactly as it was returned');
  return raw;
}

export const observation: ResourceModule = {
  type: 'Observation',
  documentation:
    'Lab results (category laboratory: LOINC, UCUM, reference range, interpretation, performing institution) and device readings (category vital-signs: heart rate 8867-4, SpO2 2708-6/59408-5, interstitial glucose 99504-3, with the device). LABS and DEVICES consent of the patient, minus the consent\'s exceptions (LOINC class, periods). Searches are per patient; newest first unless _sort=date.',
  params: [
    { name: 'patient', type: 'reference', documentation: 'The patient (Patient/pat-…); required unless subject is given.' },
    { name: 'subject', type: 'reference', documentation: 'Same as patient; or a research subject (ResearchSubject/rs-…, for members of its study): its lab results and readings by pseudonym, oldest first, subject a logical reference by pseudonym and focus the ResearchSubject.' },
    { name: 'category', type: 'token', documentation: 'laboratory or vital-signs (observation-category).' },
    { name: 'code', type: 'token', documentation: 'A LOINC code, optionally as http://loinc.org|code.' },
    { name: 'date', type: 'date', documentation: 'effectiveDateTime, with eq, ge, gt, le, lt; may repeat.' },
  ],
  sortsByDate: true,
  read,
  search,
};
