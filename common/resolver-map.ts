/**
 * The type of a subgraph's resolver map, as `buildSubgraphSchema` takes it: for the
 * subgraphs and for the accounts subgraph the gateway serves itself (so it lives in
 * common/, which both may import, rather than in subgraphs/kit/).
 *
 * This is the one file that imports from `@apollo/subgraph/dist/...`: the package's root
 * exports only `buildSubgraphSchema` and `printSubgraphSchema`, not the type of the
 * resolvers they accept, so it has to be reached by its internal path. The import is
 * type-only (nothing of it is in the compiled JavaScript); if a release moves the type,
 * this file is the only one to change.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';

/** Resolvers by type and field (plus `__resolveReference`), with `TContext` as every resolver's context. */
export type ResolverMap<TContext = unknown> = GraphQLResolverMap<TContext>;
