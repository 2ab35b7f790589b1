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
  /**
   * Another gateway on the same data and subgraphs, with other settings (and subgraph URLs
   * overridden). Closed by `closeExtraGateways()`: call it after each test, so that idle
   * database pools do not pile up (PostgreSQL allows 100 connections in all).
   */
  gatewayWith(env: Partial<Env>, urls?: Partial<Record<SubgraphName, string>>): Promise<RunningGateway>;
  closeExtraGateways(): Promise<void>;
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
  const extra: RunningGateway[] = [];
  const closeExtraGateways = async () => {
    while (extra.length) await extra.pop()!.close();
  };
  return {
    database,
    gateway,
    subgraphs,
    async gatewayWith(env, urls = {}) {
      const g = await startGateway({
        env: { ...database.env, ...env },
        port: 0,
        subgraphUrls: { ...Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, subgraphs[n].url])), ...urls },
      });
      extra.push(g);
      return g;
    },
    closeExtraGateways,
    async token({ role, username, scopes = ['read', 'write'] }) {
      const user = await gateway.db.getRepository(User).findOneOrFail({ where: username ? { username } : { role }, order: { username: 'ASC' } });
      const { token } = await createApiToken(gateway.db, user.id, { name: `test ${++minted}`, scopes, expiresInDays: 1 });
      return { token, user };
    },
    async close() {
      await closeExtraGateways();
      await gateway.close();
      for (const s of Object.values(subgraphs)) await s.close();
      await database.drop();
    },
  };
}
