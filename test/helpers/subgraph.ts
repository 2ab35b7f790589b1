import type { SubgraphName } from '../../common/config';
import { SUBGRAPHS } from '../../subgraphs';
import { startSubgraph, type RunningSubgraph } from '../../subgraphs/kit/server';
import { seed } from '../../seed/write';
import { freshDatabase, type TestDatabase } from './database';

export interface SubgraphUnderTest {
  database: TestDatabase;
  subgraph: RunningSubgraph;
  url: string;
  close(): Promise<void>;
}

/** A seeded database and one subgraph serving it in this process, on a free port. */
export async function startSeededSubgraph(name: SubgraphName, patients = 30, seedValue = 1): Promise<SubgraphUnderTest> {
  const database = await freshDatabase();
  await seed({ patients, seed: seedValue }, database.env);
  const subgraph = await startSubgraph(SUBGRAPHS[name], { env: database.env, port: 0 });
  return {
    database,
    subgraph,
    url: subgraph.url,
    async close() {
      await subgraph.close();
      await database.drop();
    },
  };
}
