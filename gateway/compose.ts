/**
 * Composes the supergraph from each subgraph's SDL at build time. The result,
 * `supergraph.graphql`, is checked in: the gateway serves it, and so would Apollo
 * Router or Hive Gateway unchanged. `npm run compose` rewrites it; a test fails when
 * the checked-in file is stale.
 *
 *   node dist/gateway/compose.js --write   rewrite supergraph.graphql
 *   node dist/gateway/compose.js --check   exit 1 if it is stale
 */
import fs from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { DEFAULT_PORTS, SUBGRAPH_NAMES } from '../common/config';
import { projectRoot, readSubgraphSdl } from '../common/paths';
import { writeOrCheck } from '../common/generated-file';

export const SUPERGRAPH_PATH = path.join(projectRoot(), 'supergraph.graphql');

/** The accounts subgraph is served by the gateway itself (it owns identity). */
export const ACCOUNTS_SDL_PATH = path.join(projectRoot(), 'gateway', 'accounts', 'schema.graphql');

export function composeSupergraph(): string {
  const result = composeServices([
    ...SUBGRAPH_NAMES.map((name) => ({
      name,
      typeDefs: parse(readSubgraphSdl(name)),
      url: `http://127.0.0.1:${DEFAULT_PORTS[name]}/graphql`,
    })),
    { name: 'accounts', typeDefs: parse(fs.readFileSync(ACCOUNTS_SDL_PATH, 'utf8')), url: `http://127.0.0.1:${DEFAULT_PORTS.gateway}/accounts/graphql` },
  ]);
  if (result.errors) {
    throw new Error('Supergraph composition failed:\n' + result.errors.map((e) => '  ' + e.message).join('\n'));
  }
  return result.supergraphSdl + '\n';
}

export function readSupergraph(): string {
  return fs.readFileSync(SUPERGRAPH_PATH, 'utf8');
}

if (require.main === module) {
  writeOrCheck(SUPERGRAPH_PATH, composeSupergraph(), process.argv[2] ?? '--write', 'npm run compose');
}
