import path from 'node:path';
import { SUBGRAPH_NAMES, type SubgraphName } from '../../common/config';
import { projectRoot } from '../../common/paths';
import { freePort } from '../../common/ports';
import { spawnHub, type HubProcess } from '../../cli/hub-process';
import { freshDatabase, type TestDatabase } from './database';

export type Hub = HubProcess & { database: TestDatabase };

export const CLI = path.join(projectRoot(), 'dist', 'cli', 'main.js');

/** `custodian start` as a child process, on free ports and a fresh database. */
export async function startHub(): Promise<Hub> {
  const database = await freshDatabase();
  const subgraphs = {} as Record<SubgraphName, number>;
  for (const name of SUBGRAPH_NAMES) subgraphs[name] = await freePort();
  const hub = await spawnHub({ gateway: await freePort(), subgraphs }, database.vars);
  return {
    ...hub,
    database,
    async stop(signal?: NodeJS.Signals) {
      const code = await hub.stop(signal);
      await database.drop();
      return code;
    },
  };
}
