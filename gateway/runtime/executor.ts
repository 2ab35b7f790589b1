/**
 * The executor behind /graphql: Apollo Gateway (apollo/) or Hive Gateway (hive/), chosen
 * by GATEWAY_EXECUTOR (and, for Hive, its planner by GATEWAY_PLANNER) over the same
 * checked-in supergraph. Everything around it — routes, identify, scopes, purpose,
 * limits, identity signing, error shapes — is the same pieces of gateway/runtime/, so
 * switching changes who plans and fetches, nothing a client or subgraph can tell apart.
 */
import type { SignWith } from '../../common/keysets';
import type { RequestHandler } from 'express';
import type { GraphQLSchema } from 'graphql';
import type { Env, SubgraphName } from '../../common/config';
import type { Logger } from '../../common/logger';
import { apolloExecutor } from './apollo/executor';
import { hiveExecutor } from './hive/executor';
import type { Ownership } from './limits/ownership';
import type { GatewayContext } from './context';

export interface ExecutorDeps {
  env: Env;
  log: Logger;
  supergraphSdl: string;
  ownership: Ownership;
  /** The accounts subgraph, served in process: the gateway holds its database. */
  accountsSchema: GraphQLSchema;
  /** Every other subgraph's GraphQL URL. */
  urls: Record<SubgraphName, string>;
  identityKey: SignWith;
}

/** One GraphQL operation run in process, and the HTTP status /graphql would have answered. */
export interface ExecutedOperation {
  status: number;
  result: { data?: Record<string, unknown> | null; errors?: readonly { message: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[] };
}

export interface Executor {
  /** Express handler for /graphql, after identifyCallers() (http.ts). */
  handler: RequestHandler;
  /**
   * The same execution as `handler` — parse, operation limits, cost, scopes, plan, signed
   * subgraph fetches, budget — for a caller identified the same way, without an HTTP
   * round trip: how the FHIR API (fhir/) runs its reads as a client of the supergraph.
   */
  execute(request: { query: string; variables?: Record<string, unknown> }, context: GatewayContext): Promise<ExecutedOperation>;
  stop(): Promise<void>;
}

export async function startExecutor(deps: ExecutorDeps): Promise<Executor> {
  const { GATEWAY_EXECUTOR: executor, GATEWAY_PLANNER: planner } = deps.env;
  // readEnv refuses this too; an Env built in code (tests) reaches here unchecked.
  if (planner === 'rust' && executor !== 'hive') throw new Error(`GATEWAY_PLANNER=rust is Hive Gateway's planner: set GATEWAY_EXECUTOR=hive too (it is ${executor})`);
  return executor === 'hive' ? hiveExecutor(deps) : apolloExecutor(deps);
}
