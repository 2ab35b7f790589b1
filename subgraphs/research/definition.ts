import { decodeSecret, loadPseudonymKey } from '../../common/keys';
import type { SubgraphDefinition } from '../kit/server';
import { cursorSeal, type CursorSeal } from '../kit/sealed-cursors';
import { pseudonymizer, type Pseudonymizer } from './pseudonyms';
import { access } from './rules';
import { entities } from './entities';
import { CreateResearch1764057600000 } from './migrations/1764057600000-create-research';
import { resolvers } from './resolvers';

/** What the research resolvers are given besides their database. */
export interface ResearchResources {
  pseudonym: Pseudonymizer;
  /** The pseudonym under PSEUDONYM_KEY_PREVIOUS, while a rotation is under way. */
  previousPseudonym: Pseudonymizer | null;
  /** Seals the cursors of research series (kit/sealed-cursors.ts). */
  cursors: CursorSeal;
}

export const researchSubgraph: SubgraphDefinition = {
  name: 'research',
  resolvers,
  access,
  database: { entities, migrations: [CreateResearch1764057600000] },
  resources: async (env) => {
    const secret = loadPseudonymKey(env.DATA_DIR, env.PSEUDONYM_KEY ? { PSEUDONYM_KEY: env.PSEUDONYM_KEY } : {});
    return {
      values: {
        pseudonym: pseudonymizer(secret),
        cursors: cursorSeal(secret),
        previousPseudonym: env.PSEUDONYM_KEY_PREVIOUS ? pseudonymizer(decodeSecret('PSEUDONYM_KEY_PREVIOUS', env.PSEUDONYM_KEY_PREVIOUS)) : null,
      } satisfies ResearchResources,
      close: async () => {},
    };
  },
};
