import type { SubgraphDefinition } from '../kit/server';
import { access } from './access';
import { entities } from './entities';
import { CreateResearch1764057600000 } from './migrations/1764057600000-create-research';
import { resolvers } from './resolvers';

export const researchSubgraph: SubgraphDefinition = {
  name: 'research',
  resolvers,
  access,
  database: { entities, migrations: [CreateResearch1764057600000] },
};
