import path from 'node:path';
import { SUBGRAPH_NAMES, type SubgraphName } from '../../common/config';
import { projectRoot } from '../../common/paths';
import { freePort } from '../../common/ports';
import { spawnHub, type HubProcess } from '../../cli/hub-process';
import { freshDatabase, type TestDatabase } from './database';

export type Hub = HubProcess & { database: TestDatabase };

export const CLI = path.join(projectRoot(), 'dist', 'cli', 'main.js');

export interface StartHubOptions {
  /**
   * Runs on the fresh database before the hub starts: e.g. seeding a smaller world than
   * the 500-patient demo, which `custodian start` then leaves alone (it seeds only an
   * empty database).
   */
  prepare?: (database: TestDatabase) => Promise<void>;
  /** More environment for the hub's processes (e.g. a test that is about something else than limits raises them). */
  env?: Record<string, string>;
}

/** `custodian start` as a child process, on free ports and a fresh database. */
export async function startHub(options: StartHubOptions = {}, attempt = 1): Promise<Hub> {
  const database = await freshDatabase();
  const subgraphs = {} as Record<SubgraphName, number>;
  for (const name of SUBGRAPH_NAMES) subgraphs[name] = await freePort();
  let hub: HubProcess;
  try {
    await options.prepare?.(database);
    hub = await spawnHub({ gateway: await freePort(), subgraphs }, { ...database.vars, ...options.env });
  } catch (err) {
    // Another process took a port between our choosing it and the child binding it.
    await database.drop();
    if (attempt < 3 && /EADDRINUSE/.test(String(err))) return startHub(options, attempt + 1);
    throw err;
  }
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
