/**
 * The gateway and all five subgraphs in this process, on free ports and a fresh seeded
 * database, over real HTTP: for tests that need to see inside (outbox rows, counters)
 * while they send real requests. `env` overrides settings of the gateway (limits, …).
 */
import { SUBGRAPH_NAMES, type Env, type SubgraphName } from '../../common/config';
import { loadPrivateKey } from '../../common/keys';
import { createApiToken } from '../../gateway/identity/api-tokens';
import { User } from '../../gateway/identity/entities';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { seed } from '../../seed/write';
import { SUBGRAPHS } from '../../subgraphs';
import { startSubgraph, type RunningSubgraph } from '../../subgraphs/kit/server';
import { freshDatabase, type TestDatabase } from './database';

export interface GatewayHub {
  database: TestDatabase;
  gateway: RunningGateway;
  subgraphs: Record<SubgraphName, RunningSubgraph>;
  /** An API token for the first seeded user of a role (or a named user). */
  token(who: { role?: User['role']; username?: string; scopes?: ('read' | 'write' | 'ingest')[] }): Promise<{ token: string; user: User }>;
  close(): Promise<void>;
}

let minted = 0;

export async function startGatewayHub(options: { patients?: number; env?: Partial<Env>; seedValue?: number } = {}): Promise<GatewayHub> {
  const database = await freshDatabase();
  await seed({ patients: options.patients ?? 30, seed: options.seedValue ?? 5 }, database.env);
  loadPrivateKey('identity', database.env.DATA_DIR); // generated here first, so subgraphs find its public half
  const subgraphs = {} as Record<SubgraphName, RunningSubgraph>;
  for (const name of SUBGRAPH_NAMES) subgraphs[name] = await startSubgraph(SUBGRAPHS[name], { env: database.env, port: 0 });
  const gateway = await startGateway({
    env: { ...database.env, ...options.env },
    port: 0,
    subgraphUrls: Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, subgraphs[n].url])),
  });
  return {
    database,
    gateway,
    subgraphs,
    async token({ role, username, scopes = ['read', 'write'] }) {
      const user = await gateway.db.getRepository(User).findOneOrFail({ where: username ? { username } : { role }, order: { username: 'ASC' } });
      const { token } = await createApiToken(gateway.db, user.id, { name: `test ${++minted}`, scopes, expiresInDays: 1 });
      return { token, user };
    },
    async close() {
      await gateway.close();
      for (const s of Object.values(subgraphs)) await s.close();
      await database.drop();
    },
  };
}
