import type { SubgraphDefinition } from '../kit/server';
import { access } from './rules';
import { entities } from './entities';
import { CreateDirectory1764057600000 } from './migrations/1764057600000-create-directory';
import { resolvers } from './resolvers';

export const patientsSubgraph: SubgraphDefinition = {
  name: 'patients',
  resolvers,
  access,
  database: { entities, migrations: [CreateDirectory1764057600000] },
};
