import { researchSecrets, type ResearchSecrets } from '../kit/research-series';
import type { SubgraphDefinition } from '../kit/server';
import { access } from './rules';
import { entities } from './entities';
import { CreateDevices1764057600000 } from './migrations/1764057600000-create-devices';
import { DeviceKeys1764144000000 } from './migrations/1764144000000-device-keys';
import { ResearchReadingView1766000000000 } from './migrations/1766000000000-research-reading-view';
import { resolvers } from './resolvers';

export const devicesSubgraph: SubgraphDefinition = {
  name: 'devices',
  resolvers,
  access,
  database: { entities, migrations: [CreateDevices1764057600000, DeviceKeys1764144000000, ResearchReadingView1766000000000] },
  // Pairing check and sealed cursors of research series (kit/research-series.ts).
  resources: async (env) => ({ values: { research: researchSecrets(env) } satisfies { research: ResearchSecrets }, close: async () => {} }),
};
