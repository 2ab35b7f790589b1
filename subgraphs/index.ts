/** Every subgraph, by name: what `npm start`, the seed and the tests iterate over. */
import type { SubgraphName } from '../common/config';
import { auditSubgraph } from './audit/definition';
import { devicesSubgraph } from './devices/definition';
import type { SubgraphDefinition } from './kit/server';
import { labsSubgraph } from './labs/definition';
import { patientsSubgraph } from './patients/definition';
import { researchSubgraph } from './research/definition';

export const SUBGRAPHS: Record<SubgraphName, SubgraphDefinition> = {
  patients: patientsSubgraph,
  labs: labsSubgraph,
  devices: devicesSubgraph,
  research: researchSubgraph,
  audit: auditSubgraph,
};
