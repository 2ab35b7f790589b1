import type { SubgraphDefinition } from '../kit/server';
import { access } from './rules';
import { openLedger } from './ledger-reader';
import { resolvers } from './resolvers';

/** The compliance view of the ledger: its own database holds only its outbox (its own access decisions). */
export const auditSubgraph: SubgraphDefinition = {
  name: 'audit',
  resolvers,
  access,
  database: { entities: [], migrations: [] },
  resources: openLedger,
};
