/**
 * Every path to patient data, generated from the composed supergraph — not a hand-written
 * list of queries — so that a field added to any subgraph is walked (and checked) without
 * anyone remembering to add it here.
 *
 * A path is a root field followed by up to `maxHops` fields, each of which returns an
 * object type that (directly or further down) holds patient data; it is emitted wherever
 * it arrives at a patient-data type. Connections are walked through `nodes` and, as
 * their own paths, through `edges { node }`. Along a path, the objects in the middle
 * select what identifies them (their `id`); the object at the end selects every
 * data-bearing leaf — scalars, enums, and value objects such as names and codings. One
 * query per path keeps a refusal in one place from hiding rows in another.
 *
 * New object types must be classified below: a type that is neither patient data nor
 * known to hold none fails the test (`unclassified`), rather than being silently skipped.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  buildASTSchema,
  getNamedType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  parse,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { projectRoot } from '../../../common/paths';

/** The kinds of patient row the contract gives one visibility rule each. */
export const PATIENT_DATA_TYPES = [
  'Patient',
  'LabResult',
  'Device',
  'DeviceReading',
  'Enrolment',
  'Consent',
  'BreakGlassAccess',
  'AuditEvent',
  'CohortSummary',
  // The accounting of one patient's disclosures is that patient's AUDIT data.
  'DisclosureReport',
  // A project's view of one enrolled patient (by pseudonym), and their series over time.
  'ResearchSubject',
  'ResearchLabResult',
  'ResearchReading',
] as const;
export type PatientDataType = (typeof PATIENT_DATA_TYPES)[number];

/** Object types known to carry no patient row of their own (they may lead to one). */
export const NON_PATIENT_TYPES = new Set([
  'Query',
  'Mutation',
  'Account',
  'ApiToken',
  'CreatedApiToken',
  'Passkey',
  'Institution',
  'Practitioner',
  'ResearchProject',
  'HumanName',
  'Identifier',
  'Coding',
  'ReferenceRange',
  'Grantee',
  'ConsentException',
  'AccessExplanation',
  'PageInfo',
  'AuditActor',
  'LedgerPosition',
  'InclusionProof',
  'LedgerCheckpoint',
  'Disclosure',
  'IngestReadingsPayload',
  // A bucket of CohortSummary.distribution: an aggregate, checked with its summary (check.ts).
  'CohortBucket',
]);

/** Types without an `id`: what identifies a row of them in the middle of a path. */
const IDENTIFY: Record<string, string> = {
  // The patient, where the enrolment shows it; else its pseudonym or date tells it apart.
  Enrolment: 'enrolledAt status project { id } patient { id }',
  CohortSummary: 'projectId loinc',
  DisclosureReport: 'patientId',
  ResearchSubject: 'pseudonym project { id }',
};

/**
 * Leaves not selected: public values that cost a computation per row. An inclusion
 * proof is hashes the ledger publishes anyway (GET /ledger/proof/inclusion); asked for on
 * a hundred audit events at once it is a hundred proofs.
 */
const SKIPPED_LEAVES = new Set(['LedgerPosition.inclusion']);

/**
 * Mutations the leak test cannot call through an API token, with the reason. Anything
 * else without an input maker in the test fails it.
 */
export const UNCALLABLE_MUTATIONS: Record<string, string> = {
  createApiToken: 'needs a passkey session (an API token cannot mint tokens); returns no patient row',
  revokeApiToken: "the caller's own token; returns no patient row",
  removePasskey: "needs a passkey of the caller's own; returns their own account",
};

export interface PathStep {
  /** Field name on the parent type. */
  field: string;
  parentType: string;
  /** The named type of the rows this step yields (the connection's node type for connections). */
  type: string;
  /** The field's own named type (the connection type, for connections). */
  returns: string;
  /** The field's own type is nullable (where an error stops bubbling up). */
  nullable: boolean;
  list: boolean;
  /** For a connection: how its rows are reached. */
  connection: 'nodes' | 'edges' | null;
  /** Argument names and their GraphQL types, for the root step. */
  args: { name: string; type: string; required: boolean }[];
}

export interface SchemaPath {
  operation: 'query' | 'mutation';
  steps: PathStep[];
  /** e.g. `patient.labResults.nodes.patient.devices` */
  key: string;
  terminal: PatientDataType;
}

export interface SupergraphModel {
  schema: GraphQLSchema;
  generator: PathGenerator;
  paths: SchemaPath[];
  /** Object types reachable from the roots that neither list above classifies. */
  unclassified: string[];
  /** Per patient-data type: the number of distinct paths arriving at it. */
  pathsByType: Record<string, number>;
  /** Fields left out as @inaccessible (never served to clients). */
  inaccessible: string[];
}

const isPatientData = (t: string): t is PatientDataType => (PATIENT_DATA_TYPES as readonly string[]).includes(t);

function unwrap(type: GraphQLOutputType): { named: string; list: boolean; nullable: boolean } {
  const nullable = !isNonNullType(type);
  const inner = isNonNullType(type) ? type.ofType : type;
  return { named: getNamedType(type).name, list: isListType(inner), nullable };
}

function hasDirective(node: { directives?: readonly { name: { value: string } }[] } | undefined | null, name: string): boolean {
  return Boolean(node?.directives?.some((d) => d.name.value === name));
}

/** The client-facing schema: the supergraph minus federation's own types and @inaccessible parts. */
export function loadSupergraph(file = path.join(projectRoot(), 'supergraph.graphql')): { schema: GraphQLSchema; inaccessible: string[] } {
  const schema = buildASTSchema(parse(fs.readFileSync(file, 'utf8')), { assumeValidSDL: true });
  const inaccessible: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      if (hasDirective(field.astNode, 'inaccessible')) inaccessible.push(`${type.name}.${field.name}`);
    }
  }
  return { schema, inaccessible };
}

export class PathGenerator {
  private readonly reaches = new Map<string, boolean>();

  constructor(
    readonly schema: GraphQLSchema,
    private readonly inaccessible: Set<string>,
  ) {}

  fields(type: GraphQLObjectType): GraphQLField<unknown, unknown>[] {
    if (this.inaccessible.has(type.name) || hasDirective(type.astNode, 'inaccessible')) return [];
    return Object.values(type.getFields()).filter((f) => !this.inaccessible.has(`${type.name}.${f.name}`) && !hasDirective(f.astNode, 'inaccessible'));
  }

  private object(name: string): GraphQLObjectType | null {
    const t = this.schema.getType(name);
    return t && isObjectType(t) ? t : null;
  }

  hasField(typeName: string, field: string): boolean {
    const t = this.object(typeName);
    return Boolean(t && this.fields(t).some((f) => f.name === field));
  }

  /** A connection: an object with `nodes: [X]` and `edges: [{ node: X }]`. */
  connectionNode(name: string): string | null {
    const t = this.object(name);
    if (!t || !name.endsWith('Connection')) return null;
    const nodes = t.getFields().nodes;
    return nodes ? getNamedType(nodes.type).name : null;
  }

  /** The row type a field yields: through a connection to its node type. */
  rowType(field: GraphQLField<unknown, unknown>): string {
    const named = getNamedType(field.type).name;
    return this.connectionNode(named) ?? named;
  }

  /** Does this object type hold, or lead to, a patient-data type? */
  reachesPatientData(name: string, seen = new Set<string>()): boolean {
    const cached = this.reaches.get(name);
    if (cached !== undefined) return cached;
    if (isPatientData(name)) return true;
    const t = this.object(name);
    if (!t || seen.has(name)) return false;
    seen.add(name);
    const result = this.fields(t).some((f) => {
      const row = this.rowType(f);
      return this.object(row) !== null && this.reachesPatientData(row, seen);
    });
    if (seen.size === 1) this.reaches.set(name, result);
    return result;
  }

  /** A field is a hop when what it returns holds patient data (everything else is a leaf). */
  isHop(field: GraphQLField<unknown, unknown>): boolean {
    const row = this.rowType(field);
    return this.object(row) !== null && this.reachesPatientData(row);
  }

  /**
   * Every leaf of a type that carries data: scalars and enums, and value objects in full
   * (an object with an `id` in leaf position gives its id only). Fields with required
   * arguments are left out; hops are paths of their own.
   */
  leaves(typeName: string, depth = 0): string {
    const t = this.object(typeName);
    if (!t) return '';
    const parts: string[] = [];
    for (const f of this.fields(t)) {
      if (f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) continue;
      if (SKIPPED_LEAVES.has(`${typeName}.${f.name}`)) continue;
      const named = getNamedType(f.type);
      if (isScalarType(named) || isEnumType(named)) {
        parts.push(f.name);
        continue;
      }
      if (!isObjectType(named) || this.isHop(f) || depth >= 3) continue;
      if (this.connectionNode(named.name)) continue;
      const inner = named.getFields().id ? 'id' : this.leaves(named.name, depth + 1);
      if (inner) parts.push(`${f.name} { ${inner} }`);
    }
    return parts.join(' ');
  }

  /** What identifies a row in the middle of a path. */
  identify(typeName: string): string {
    if (IDENTIFY[typeName]) return IDENTIFY[typeName]!;
    const t = this.object(typeName);
    if (t?.getFields().id) return 'id';
    // A payload or explanation: its scalars (they identify it and are few).
    const scalars = t ? this.fields(t).filter((f) => f.args.length === 0 && isScalarOrEnum(f.type)).map((f) => f.name) : [];
    return scalars.join(' ') || '__typename';
  }

  step(parent: GraphQLObjectType, field: GraphQLField<unknown, unknown>, connection: 'nodes' | 'edges' | null): PathStep {
    const u = unwrap(field.type);
    return {
      field: field.name,
      parentType: parent.name,
      type: this.rowType(field),
      returns: u.named,
      nullable: u.nullable,
      list: u.list,
      connection,
      args: field.args.map((a) => ({ name: a.name, type: String(a.type), required: isNonNullType(a.type) && a.defaultValue === undefined })),
    };
  }

  /** All paths from the roots, at most `maxHops` fields below the root field. */
  enumerate(maxHops: number): SchemaPath[] {
    const out: SchemaPath[] = [];
    const roots: ['query' | 'mutation', GraphQLObjectType | null | undefined][] = [
      ['query', this.schema.getQueryType()],
      ['mutation', this.schema.getMutationType()],
    ];
    for (const [operation, root] of roots) {
      if (!root) continue;
      for (const f of this.fields(root)) {
        if (!this.isHop(f)) continue;
        if (operation === 'mutation' && UNCALLABLE_MUTATIONS[f.name]) continue;
        const variants = this.connectionNode(getNamedType(f.type).name) ? (['nodes', 'edges'] as const) : ([null] as const);
        for (const v of variants) this.walk(operation, [this.step(root, f, v)], maxHops, out);
      }
    }
    return out;
  }

  private walk(operation: 'query' | 'mutation', steps: PathStep[], maxHops: number, out: SchemaPath[]): void {
    const last = steps[steps.length - 1]!;
    if (isPatientData(last.type)) {
      out.push({ operation, steps, key: keyOf(steps), terminal: last.type });
    }
    // Rows reached through `edges { node }` end their path: the same rows through
    // `nodes` are walked further, and the edges form only doubles what is selected.
    if (last.connection === 'edges' || steps.length > maxHops) return;
    const t = this.object(last.type);
    if (!t) return;
    for (const f of this.fields(t)) {
      if (!this.isHop(f)) continue;
      if (f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) continue;
      const variants = this.connectionNode(getNamedType(f.type).name) ? (['nodes', 'edges'] as const) : ([null] as const);
      for (const v of variants) this.walk(operation, [...steps, this.step(t, f, v)], maxHops, out);
    }
  }

  /** Object types reachable from the roots that are not classified either way. */
  unclassified(): string[] {
    const seen = new Set<string>();
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      const t = this.object(name);
      if (!t) return;
      for (const f of this.fields(t)) {
        const named = getNamedType(f.type);
        if (isObjectType(named)) visit(named.name);
      }
    };
    visit(this.schema.getQueryType()!.name);
    if (this.schema.getMutationType()) visit(this.schema.getMutationType()!.name);
    return [...seen].filter((n) => !isPatientData(n) && !NON_PATIENT_TYPES.has(n) && !this.isStructural(n)).sort();
  }

  /** Connections and their edges are how lists are paged, not rows. */
  private isStructural(name: string): boolean {
    if (this.connectionNode(name)) return true;
    const t = this.object(name);
    return Boolean(name.endsWith('Edge') && t?.getFields().node && t.getFields().cursor);
  }
}

function isScalarOrEnum(type: GraphQLOutputType): boolean {
  const named = getNamedType(type);
  return isScalarType(named) || isEnumType(named);
}

export const keyOf = (steps: PathStep[]) =>
  steps.map((s) => (s.connection === 'nodes' ? `${s.field}.nodes` : s.connection === 'edges' ? `${s.field}.edges.node` : s.field)).join('.');

export function modelSupergraph(maxHops: number): SupergraphModel {
  const { schema, inaccessible } = loadSupergraph();
  const gen = new PathGenerator(schema, new Set(inaccessible));
  const paths = gen.enumerate(maxHops);
  const pathsByType: Record<string, number> = Object.fromEntries(PATIENT_DATA_TYPES.map((t) => [t, 0]));
  for (const p of paths) pathsByType[p.terminal]!++;
  return { schema, generator: gen, paths, unclassified: gen.unclassified(), pathsByType, inaccessible };
}

/**
 * The selection set of one path below its root field: identifiers in the middle, every
 * data leaf at the end, `totalCount` on each connection (totals must not count hidden
 * rows), and `first: 100` wherever a list is paged.
 */
export function selectionOf(gen: PathGenerator, steps: PathStep[], from = 0): string {
  const step = steps[from]!;
  const isLast = from === steps.length - 1;
  let inner = isLast ? `${gen.identify(step.type)} ${gen.leaves(step.type)}` : gen.identify(step.type);
  if (!isLast) {
    const next = steps[from + 1]!;
    // A full page where a path first lists rows; further down, a shorter one (the rows
    // there are mostly seen again through other parents).
    const pageArgs = next.args.some((a) => a.name === 'first') ? `(first: ${steps.slice(0, from + 1).some((s) => s.connection || s.list) ? 5 : 100})` : '';
    inner += ` ${next.field}${pageArgs} { ${selectionOf(gen, steps, from + 1)} }`;
  }
  const total = step.connection && gen.hasField(step.returns, 'totalCount') ? 'totalCount ' : '';
  if (step.connection === 'nodes') return `${total}nodes { ${inner} }`;
  if (step.connection === 'edges') return `${total}edges { node { ${inner} } }`;
  return inner;
}
