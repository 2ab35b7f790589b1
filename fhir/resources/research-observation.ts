/**
 * Observation?subject=ResearchSubject/<id>: a research subject's lab results and device
 * readings over time (`researchSubject(projectId, pseudonym) { labResults readings }`),
 * LABS and DEVICES decided for THIS project by the research subgraph's rule, for its
 * members only. No identifying field: no patient id, no result or reading id, no device.
 *
 * R4 limits Observation.subject to Patient | Group | Device | Location, so the subject is
 * a logical Patient reference by the project's pseudonym (an identifier, nothing a client
 * can resolve), and `focus` is the ResearchSubject (focus may reference anything). Both
 * validate with zero errors (test/fhir/research.test.ts); `subject=ResearchSubject/…`
 * is how the search names them.
 *
 * The series are oldest first in the subgraphs (a time series), so this search is too:
 * `_sort=date` is the default and `-date` is refused. Paging merges the two sources as
 * observation.ts does for a patient: each page asks both for `_count` after their
 * cursors, and the `next` link carries each source's (sealed) cursor.
 *
 * Ids: the research API gives results no ids (an id would lead back to the record), so
 * each Observation's id is a digest of the subject and the observation's content:
 * stable across pages and requests, opaque, and not readable by id (a search-only
 * resource: a read answers 404 as for an unknown id).
 */
import { createHash } from 'node:crypto';
import { forbiddenSearch, invalid, notSupported } from '../outcome';
import type { FhirContext, Resource, SearchPage } from '../resource';
import type { SearchQuery } from '../search';
import { fetchData } from '../supergraph';
import { ref } from '../terminology';
import { labContent, METRIC_BY_CODE, parseCategory, parseCode, readingContent, type LabNode, type ReadingNode } from './observation-content';
import { PSEUDONYMISED, pseudonymousPatient, subjectKey, type SubjectKey } from './research-subject';
import { toFhirId } from '../ids';

const LAB_FIELDS = 'code { code display } value unit referenceRange { low high unit } interpretation status effectiveAt issuer { id }';
const READING_FIELDS = 'metric value unit recordedAt deviceKind';
const DEVICE_KIND: Record<string, string> = { SMARTWATCH: 'Smartwatch', PULSE_OXIMETER: 'Pulse oximeter', CGM: 'Continuous glucose monitor' };

type ResearchLab = Omit<LabNode, 'id'>;
type ResearchReading = Omit<ReadingNode, 'id'> & { deviceKind: string };
interface Edges<T> {
  totalCount: number;
  pageInfo: { hasNextPage: boolean };
  edges: { cursor: string; node: T }[];
}

/** A ResearchSubject reference (`ResearchSubject/rs-…`), or null when `value` names something else. */
export function researchSubjectReference(value: string): SubjectKey | 'unknown' | null {
  const m = /(?:^|\/)ResearchSubject\/([^/]+)$/.exec(value);
  if (!m) return null;
  return subjectKey(m[1]!) ?? 'unknown';
}

const digestId = (subjectId: string, kind: string, content: unknown) =>
  `rso-${createHash('sha256').update(`${subjectId}\n${kind}\n${JSON.stringify(content)}`).digest('hex').slice(0, 40)}`;

function framed(body: Resource, subjectFhirId: string, key: SubjectKey, kind: string, content: unknown): Resource {
  const { resourceType, status, category, code, ...rest } = body;
  return {
    resourceType,
    id: digestId(subjectFhirId, kind, content),
    meta: PSEUDONYMISED,
    status,
    category,
    code,
    subject: pseudonymousPatient(key.projectId, key.pseudonym),
    focus: [ref('ResearchSubject', subjectFhirId)],
    ...rest,
  };
}

export function researchLabObservation(r: ResearchLab, subjectFhirId: string, key: SubjectKey): Resource {
  return { ...framed(labContent(r), subjectFhirId, key, 'lab', r), performer: [ref('Organization', toFhirId(r.issuer.id))] };
}

export function researchReadingObservation(r: ResearchReading, subjectFhirId: string, key: SubjectKey): Resource {
  const kind = DEVICE_KIND[r.deviceKind] ?? r.deviceKind;
  return { ...framed(readingContent(r), subjectFhirId, key, 'reading', r), method: { text: `Measured by a ${kind.toLowerCase()}` } };
}

interface State {
  rs: string;
  labs?: string | null;
  readings?: string | null;
  total: number;
}

interface Item {
  source: 'labs' | 'readings';
  cursor: string;
  at: number;
  resource: Resource;
}

export async function searchResearchObservations(ctx: FhirContext, q: SearchQuery, subject: string, key: SubjectKey | 'unknown'): Promise<SearchPage> {
  if (q.sort === '-date') throw notSupported('A research subject\'s series is oldest first: _sort=date only');
  const subjectFhirId = subject.replace(/^.*ResearchSubject\//, '');
  const denied = () => forbiddenSearch("this research subject's observations");
  if (key === 'unknown') throw denied();
  const code = parseCode(q.get('code'));
  const wanted = parseCategory(q.get('category'));
  const metric = code.loinc ? (METRIC_BY_CODE.get(code.loinc) ?? null) : null;
  const labs = wanted.labs && !code.none;
  const vitals = wanted.vitals && !code.none && (!code.loinc || metric !== null);
  const from = q.dates.since?.toISOString() ?? null;
  const to = q.dates.until?.toISOString() ?? null;
  if ((from && to && from >= to) || (!labs && !vitals)) return { resources: [], total: 0 };

  const cursor = q.cursor as unknown as State | undefined;
  if (cursor) validState(cursor, subjectFhirId);
  const askLabs = labs && (!cursor || cursor.labs !== undefined);
  const askReadings = vitals && (!cursor || cursor.readings !== undefined);
  // A source whose consent does not cover it (FORBIDDEN at its path) contributes nothing;
  // the subject itself unknown or hidden is the search's 403.
  const data = await fetchData<{ researchSubject: { labResults?: Edges<ResearchLab> | null; readings?: Edges<ResearchReading> | null } | null }>(
    ctx.run,
    `query FhirResearchObservations($projectId: ID!, $pseudonym: String!, $labs: Boolean!, $vitals: Boolean!, $code: String, $kind: String, $from: DateTime, $to: DateTime, $first: Int, $labsAfter: String, $readingsAfter: String) {
      researchSubject(projectId: $projectId, pseudonym: $pseudonym) {
        labResults(code: $code, from: $from, to: $to, first: $first, after: $labsAfter) @include(if: $labs) { totalCount pageInfo { hasNextPage } edges { cursor node { ${LAB_FIELDS} } } }
        readings(kind: $kind, from: $from, to: $to, first: $first, after: $readingsAfter) @include(if: $vitals) { totalCount pageInfo { hasNextPage } edges { cursor node { ${READING_FIELDS} } } }
      }
    }`,
    {
      ...key,
      labs: askLabs,
      vitals: askReadings,
      code: code.loinc ?? null,
      kind: metric,
      from,
      to,
      first: q.count,
      labsAfter: cursor?.labs ?? null,
      readingsAfter: cursor?.readings ?? null,
    },
    // Only a refusal is tolerated there: a bad cursor or argument is the client's 400, not an empty source.
    { denied, tolerate: (path, code) => code === 'FORBIDDEN' && path.length === 2 && path[0] === 'researchSubject' && (path[1] === 'labResults' || path[1] === 'readings') },
  );
  if (!data.researchSubject) throw denied();
  const items: Item[] = [];
  const more = { labs: false, readings: false };
  let total = cursor?.total ?? 0;
  const l = askLabs ? data.researchSubject.labResults : null;
  const r = askReadings ? data.researchSubject.readings : null;
  if (l) {
    more.labs = l.pageInfo.hasNextPage;
    if (!cursor) total += l.totalCount;
    for (const e of l.edges) items.push({ source: 'labs', cursor: e.cursor, at: Date.parse(e.node.effectiveAt), resource: researchLabObservation(e.node, subjectFhirId, key) });
  }
  if (r) {
    more.readings = r.pageInfo.hasNextPage;
    if (!cursor) total += r.totalCount;
    for (const e of r.edges) items.push({ source: 'readings', cursor: e.cursor, at: Date.parse(e.node.recordedAt), resource: researchReadingObservation(e.node, subjectFhirId, key) });
  }
  // Oldest first; on a tie labs before readings (the sort is stable, each source keeps its order).
  items.sort((a, b) => a.at - b.at || (a.source === b.source ? 0 : a.source === 'labs' ? -1 : 1));
  const page = items.slice(0, q.count);
  const next: State = { rs: subjectFhirId, total };
  for (const source of ['labs', 'readings'] as const) {
    const asked = source === 'labs' ? l : r;
    if (!asked) continue;
    const taken = page.filter((i) => i.source === source);
    const fetched = items.filter((i) => i.source === source).length;
    if (taken.length === fetched && !more[source]) continue; // exhausted
    next[source] = taken.length ? taken[taken.length - 1]!.cursor : (cursor?.[source] ?? null);
  }
  const open = next.labs !== undefined || next.readings !== undefined;
  return { resources: page.map((i) => i.resource), total, next: open ? (next as unknown as Record<string, unknown>) : undefined };
}

/** A decoded cursor is client input: only the shape we wrote, for this subject. */
function validState(raw: State, subjectFhirId: string): void {
  const str = (v: unknown) => v === undefined || v === null || typeof v === 'string';
  if (raw.rs !== subjectFhirId || typeof raw.total !== 'number' || !str(raw.labs) || !str(raw.readings)) {
    throw invalid('Malformed _cursor: follow a next link exactly as it was returned');
  }
}
