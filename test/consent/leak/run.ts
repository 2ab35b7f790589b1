/**
 * Asking: every generated path, as every viewer, through the real gateway. The root's
 * required arguments come from per-viewer samples of ids the oracle says they may see,
 * ids it says they may not (favouring near misses: a lab result of a patient whose labs
 * they may see, but which an exception hides), and an unknown id. Paths of one root go
 * out together as aliases (one query plan per document, reused for every id and viewer);
 * when a refusal deep inside nulls a whole answer, they are asked again one by one.
 */
import type { GraphQLFormattedError } from 'graphql';
import { gql, type GraphQLResponse } from '../../support/graphql';
import type { Checker } from './check';
import type { Oracle, Viewer } from './oracle';
import type { Prng } from './prng';
import { CATEGORIES, GRANTABLE } from '../../../consent/vocabulary';
import { selectionOf, type PathGenerator, type PathStep, type SchemaPath } from './schema-paths';
import { walkAnswer } from './walk';

export interface RunStats {
  requests: number;
  answersWithData: number;
  retriedAlone: number;
  /** Requests asked again after an INTERNAL_SERVER_ERROR (a busy shared PostgreSQL refusing connections). */
  retriedAfterInternalError: number;
  /** Milliseconds spent waiting, per root field. */
  msByRoot: Record<string, number>;
}

export class Asker {
  readonly stats: RunStats = { requests: 0, answersWithData: 0, retriedAlone: 0, retriedAfterInternalError: 0, msByRoot: {} };

  constructor(
    private readonly url: string,
    private readonly gen: PathGenerator,
    private readonly checker: Checker,
    private readonly batch = 32,
  ) {}

  async send(v: Viewer, query: string, variables: Record<string, unknown>, root = 'other'): Promise<GraphQLResponse> {
    this.stats.requests++;
    const t0 = Date.now();
    const ask = () => gql(`${this.url}/graphql`, query, variables, { authorization: `Bearer ${v.token}`, 'x-purpose-of-use': v.purpose });
    let res = await ask();
    // For queries only (a mutation may have half-happened), up to three more times: an
    // internal error is the hub failing (on PostgreSQL, e.g. connections running out on a
    // server other suites share), not an answer, and it would hide rows. One that stays
    // is reported, and fails the coverage test.
    for (let attempt = 1; attempt <= 3 && !/^\s*mutation/.test(query) && res.errors?.some((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR'); attempt++) {
      this.stats.retriedAfterInternalError++;
      await new Promise((r) => setTimeout(r, 500 * attempt));
      res = await ask();
    }
    this.stats.msByRoot[root] = (this.stats.msByRoot[root] ?? 0) + Date.now() - t0;
    if (res.data) this.stats.answersWithData++;
    return res;
  }

  /** One document: `a<i>: root(args) { path i }` for each path. */
  document(operation: 'query' | 'mutation', root: PathStep, paths: SchemaPath[]): string {
    const required = root.args.filter((a) => a.required);
    const vars = required.map((a) => `$${a.name}: ${a.type}`).join(', ');
    const args = [...required.map((a) => `${a.name}: $${a.name}`), ...(root.args.some((a) => a.name === 'first') ? ['first: 100'] : [])].join(', ');
    const fields = paths.map((p, i) => `a${i}: ${root.field}${args ? `(${args})` : ''} { ${selectionOf(this.gen, p.steps)} }`);
    return `${operation} Leak${vars ? `(${vars})` : ''} { ${fields.join(' ')} }`;
  }

  /** Asks these paths (all of one root field) as `v` with these root arguments, and judges the answers. */
  async ask(v: Viewer, paths: SchemaPath[], variables: Record<string, unknown>, batch = this.batch): Promise<void> {
    for (let i = 0; i < paths.length; i += batch) {
      const group = paths.slice(i, i + batch);
      const res = await this.send(v, this.document(group[0]!.operation, group[0]!.steps[0]!, group), variables, group[0]!.steps[0]!.field);
      if (res.data === null || res.data === undefined) {
        // Refused at the root: every alias was refused alike. Deeper: ask each alone.
        const deeper = (res.errors ?? []).some((e) => (e.path?.length ?? 0) > 1);
        if (group.length > 1 && res.status === 200 && deeper) {
          // A refusal deep down bubbled up to a non-null root and took the siblings with it.
          this.stats.retriedAlone += group.length;
          for (const p of group) await this.ask(v, [p], variables, 1);
          continue;
        }
      }
      this.judge(v, group, res, variables);
    }
  }

  judge(v: Viewer, paths: SchemaPath[], res: GraphQLResponse, variables: Record<string, unknown>): void {
    this.checker.errors(v, res.errors as GraphQLFormattedError[] | undefined, variables, paths[0]!.key);
    if (!res.data) return;
    paths.forEach((p, i) => {
      walkAnswer(
        p,
        res.data[`a${i}`],
        variables,
        (o) => this.checker.observe(v, o),
        (t) => this.checker.total(v, t),
      );
    });
  }
}

/** Runs tasks with at most `n` in flight. */
export async function pool<T>(items: T[], n: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

export interface Samples {
  Patient: string[];
  LabResult: string[];
  Device: string[];
  ResearchProject: string[];
  /** Readings: visible, inside an exception's period on a visible device, hidden, and one unknown. */
  DeviceReading: string[];
  /** Break-the-glass accesses: ones the viewer opened or may review, others', and one unknown. */
  BreakGlassAccess: string[];
  /** Research pseudonyms: of subjects the viewer may see in a project, of hidden ones, and one unknown. */
  Pseudonym: string[];
  /** Ledger events (as far as Oracle.loadEvents has read): about patients whose AUDIT the viewer may read, others, and one unknown. */
  AuditEvent: string[];
}

/** Ids to ask for, per viewer: visible ones, hidden ones (near misses first), and one unknown. */
export function samplesFor(v: Viewer, oracle: Oracle, rng: Prng, cohortProject: string): Samples {
  const unknown = (prefix: string) => `${prefix}_${rng.hex(20)}`;
  const patients = [...oracle.patients.keys()].sort();
  const visiblePatients = patients.filter((p) => oracle.patientVisible(v, p));
  // One whose access a consent decides (not a base policy): explanations then name it.
  const byConsent = visiblePatients.filter((p) => GRANTABLE.some((c) => oracle.decide(v, p, c).decidedBy.startsWith('consent:')));
  const hiddenPatients = patients.filter((p) => !oracle.patientVisible(v, p));
  const labs = [...oracle.labs.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  const visibleLabs = labs.filter((l) => oracle.labVisible(v, l));
  const excluded = labs.filter((l) => !oracle.labVisible(v, l) && oracle.allowed(v, l.patientId, 'LABS'));
  const hiddenLabs = labs.filter((l) => !oracle.allowed(v, l.patientId, 'LABS'));
  const devices = [...oracle.devices.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  // Devices whose readings an exception narrows are the interesting visible ones.
  const narrowed = devices.filter((d) => oracle.deviceVisible(v, d) && oracle.decide(v, d.ownerPatientId, 'DEVICES').exclusions.length > 0);
  const visibleDevices = devices.filter((d) => oracle.deviceVisible(v, d) && !narrowed.includes(d));
  const hiddenDevices = devices.filter((d) => !oracle.deviceVisible(v, d));
  const readingsOf = (ds: typeof devices) => ds.flatMap((d) => oracle.readingsByDevice.get(d.id) ?? []);
  const glass = [...oracle.breakGlass.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  const events = [...oracle.events.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  // Projects: the viewer's own, the one with the large cohort, one more, and an unknown one.
  const projects = [...oracle.projects.keys()].sort();
  const mine = projects.filter((p) => v.projects.has(p));
  const chosen = [...new Set([...mine, cohortProject, ...rng.sample(projects.filter((p) => !mine.includes(p) && p !== cohortProject), 1)])];
  return {
    Patient: [...new Set([...rng.sample(byConsent, 1), ...rng.sample(visiblePatients, 2)])].slice(0, 2).concat(rng.sample(hiddenPatients, 2), unknown('pat')),
    LabResult: [...rng.sample(visibleLabs, 2), ...rng.sample(excluded, 2), ...rng.sample(hiddenLabs, 1)].map((l) => l.id).concat(unknown('lab')),
    Device: [...rng.sample(narrowed, 2), ...rng.sample(visibleDevices, 1), ...rng.sample(hiddenDevices, 2)].map((d) => d.id).concat(unknown('dev')),
    ResearchProject: [...chosen.slice(0, 3), unknown('proj')],
    DeviceReading: [
      ...rng.sample(readingsOf(visibleDevices.concat(narrowed)).filter((r) => oracle.readingVisible(v, r)), 1),
      ...rng.sample(readingsOf(narrowed).filter((r) => !oracle.readingVisible(v, r)), 1),
      ...rng.sample(readingsOf(hiddenDevices), 1),
    ].map((r) => r.id).concat(unknown('rdg')),
    BreakGlassAccess: [
      ...rng.sample(glass.filter((g) => oracle.breakGlassVisible(v, g)), 1),
      ...rng.sample(glass.filter((g) => !oracle.breakGlassVisible(v, g)), 2),
    ].map((g) => g.id).concat(unknown('btg')),
    Pseudonym: pseudonymSamples(v, oracle, rng, [...mine, cohortProject]).concat(`psn_${rng.hex(22)}`),
    AuditEvent: [
      ...rng.sample(events.filter(([, patientId]) => oracle.auditEventVisible(v, patientId)), 2),
      ...rng.sample(events.filter(([, patientId]) => !oracle.auditEventVisible(v, patientId)), 2),
    ].map(([id]) => id).concat(unknown('evt')),
  };
}

/**
 * Pseudonyms worth asking about: per project (the viewer's own and the large cohort), one
 * subject the viewer may see there, one enrolled patient they may not, and one withdrawn.
 */
function pseudonymSamples(v: Viewer, oracle: Oracle, rng: Prng, projects: string[]): string[] {
  const picks: string[] = [];
  for (const projectId of [...new Set(projects)].slice(0, 2)) {
    const enrolled = oracle.enrolments.filter((e) => e.projectId === projectId).sort((a, b) => (a.id < b.id ? -1 : 1));
    const visible = enrolled.filter((e) => oracle.subjectVisible(v, e));
    const hidden = enrolled.filter((e) => !oracle.subjectVisible(v, e) && e.status !== 'WITHDRAWN');
    const withdrawn = enrolled.filter((e) => e.status === 'WITHDRAWN');
    for (const e of [...rng.sample(visible, 1), ...rng.sample(hidden, 1), ...rng.sample(withdrawn, 1)]) picks.push(oracle.pseudonym(e.projectId, e.patientId));
  }
  return picks;
}

/** Values for a root field's required arguments (a new required argument fails the test until it has one). */
export function argumentSets(root: PathStep, s: Samples): Record<string, unknown>[] {
  let sets: Record<string, unknown>[] = [{}];
  for (const a of root.args.filter((x) => x.required)) {
    let values: unknown[];
    if (a.name === 'id' && root.type in s) values = s[root.type as keyof Samples];
    else if (a.name === 'patientId') values = s.Patient;
    else if (a.name === 'projectId') values = s.ResearchProject;
    else if (a.name === 'pseudonym') values = s.Pseudonym;
    // Hemoglobin: its class (HEM/BC) is one the world's exceptions exclude.
    else if (a.name === 'loinc') values = ['718-7'];
    // Every category: an explanation is about one, and names the consent that decides it.
    else if (a.type === 'DataCategory!') values = [...CATEGORIES];
    else if (a.type === 'DateTime!') values = ['2000-01-01T00:00:00.000Z'];
    else throw new Error(`no sample values for the required argument ${root.parentType}.${root.field}(${a.name}: ${a.type})`);
    sets = sets.flatMap((set) => values.map((value) => ({ ...set, [a.name]: value })));
  }
  return sets;
}
