import type { SubgraphDefinition } from '../kit/server';
import { access } from './access';
import { entities } from './entities';
import { CreateLabResults1764057600000 } from './migrations/1764057600000-create-lab-results';
import { resolvers } from './resolvers';

export const labsSubgraph: SubgraphDefinition = {
  name: 'labs',
  resolvers,
  access,
  database: { entities, migrations: [CreateLabResults1764057600000] },
};
