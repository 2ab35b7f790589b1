import { researchSecrets, type ResearchSecrets } from '../kit/research-series';
import type { SubgraphDefinition } from '../kit/server';
import { access } from './rules';
import { entities } from './entities';
import { CreateLabResults1764057600000 } from './migrations/1764057600000-create-lab-results';
import { resolvers } from './resolvers';

/** What the labs resolvers are given besides their database. */
export interface LabsResources {
  /** Aggregates over fewer patients than this are withheld (COHORT_MIN_SIZE). */
  cohortMinSize: number;
  /** Pairing check and sealed cursors of research series (kit/research-series.ts). */
  research: ResearchSecrets;
}

export const labsSubgraph: SubgraphDefinition = {
  name: 'labs',
  resolvers,
  access,
  database: { entities, migrations: [CreateLabResults1764057600000] },
  resources: async (env) => ({ values: { cohortMinSize: env.COHORT_MIN_SIZE, research: researchSecrets(env) } satisfies LabsResources, close: async () => {} }),
};
