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

export interface Executor {
  /** Express handler for /graphql, after identifyCallers() (http.ts). */
  handler: RequestHandler;
  stop(): Promise<void>;
}

export async function startExecutor(deps: ExecutorDeps): Promise<Executor> {
  const { GATEWAY_EXECUTOR: executor, GATEWAY_PLANNER: planner } = deps.env;
  // readEnv refuses this too; an Env built in code (tests) reaches here unchecked.
  if (planner === 'rust' && executor !== 'hive') throw new Error(`GATEWAY_PLANNER=rust is Hive Gateway's planner: set GATEWAY_EXECUTOR=hive too (it is ${executor})`);
  return executor === 'hive' ? hiveExecutor(deps) : apolloExecutor(deps);
}
