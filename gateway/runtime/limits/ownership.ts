/**
 * Which subgraph resolves each field, read from the supergraph's join directives, so the
 * cost model (cost.ts) can see where a query crosses from one subgraph to another: each
 * crossing is an entity fetch of every object reached so far.
 *
 *   type T @join__type(graph: A) @join__type(graph: B)   T exists in A and B
 *   field f @join__field(graph: A)                        only A resolves T.f
 *   field f @join__field(graph: A, external: true)       A only references it
 *   field f (no @join__field)                             every graph that has T
 */
import { Kind, parse, type ConstDirectiveNode, type DocumentNode } from 'graphql';

export interface Ownership {
  /** The graphs that resolve `type.field`; empty when unknown (the field stays where it is). */
  owners(type: string, field: string): readonly string[];
}

const argument = (d: ConstDirectiveNode, name: string) => d.arguments?.find((a) => a.name.value === name)?.value;

export function supergraphOwnership(supergraphSdl: string | DocumentNode): Ownership {
  const doc = typeof supergraphSdl === 'string' ? parse(supergraphSdl) : supergraphSdl;
  const byField = new Map<string, string[]>();
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    const typeGraphs = (def.directives ?? [])
      .filter((d) => d.name.value === 'join__type')
      .map((d) => argument(d, 'graph'))
      .flatMap((v) => (v?.kind === Kind.ENUM ? [v.value] : []));
    for (const field of def.fields ?? []) {
      const joins = (field.directives ?? []).filter((d) => d.name.value === 'join__field');
      const owners = joins.length
        ? joins
            .filter((d) => !(argument(d, 'external')?.kind === Kind.BOOLEAN && (argument(d, 'external') as { value: boolean }).value))
            .map((d) => argument(d, 'graph'))
            .flatMap((v) => (v?.kind === Kind.ENUM ? [v.value] : []))
        : typeGraphs;
      byField.set(`${def.name.value}.${field.name.value}`, [...new Set(owners)]);
    }
  }
  return { owners: (type, field) => byField.get(`${type}.${field}`) ?? [] };
}

/** One service answers everything (the accounts subgraph served on its own). */
export const singleService: Ownership = { owners: () => [] };
