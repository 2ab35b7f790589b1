/**
 * The whole hub as `custodian start` runs it (test/support/hub.ts does the same), with
 * the WebAuthn relying party set to the origin the browser loads: http://localhost:<port>.
 */
import { SUBGRAPH_NAMES, type SubgraphName } from '../../common/config';
import { freePort } from '../../common/ports';
import { spawnHub } from '../../cli/hub-process';
import { freshDatabase } from '../support/database';
import type { Hub } from '../support/hub';
import type { Person } from './browser';

export type PortalHub = Hub & { origin: string };

export async function startPortalHub(attempt = 1): Promise<PortalHub> {
  const database = await freshDatabase();
  const subgraphs = {} as Record<SubgraphName, number>;
  for (const name of SUBGRAPH_NAMES) subgraphs[name] = await freePort();
  const gateway = await freePort();
  const origin = `http://localhost:${gateway}`;
  try {
    const hub = await spawnHub({ gateway, subgraphs }, { ...database.vars, RP_ID: 'localhost', ORIGIN: origin });
    return {
      ...hub,
      origin,
      database,
      async stop(signal?: NodeJS.Signals) {
        const code = await hub.stop(signal);
        await database.drop();
        return code;
      },
    };
  } catch (err) {
    await database.drop();
    if (attempt < 3 && /EADDRINUSE/.test(String(err))) return startPortalHub(attempt + 1);
    throw err;
  }
}

/** Enrols through the page: the code from `custodian invite <invite…>`, a username, a passkey. */
export async function enrol(hub: PortalHub, who: Person, username: string, ...invite: string[]): Promise<void> {
  const code = hub.cli('invite', ...invite);
  await who.page.goto(`${hub.origin}/`);
  await who.page.getByLabel('Enrolment code').fill(code);
  await who.page.getByLabel('Choose a username').fill(username);
  await who.page.getByRole('button', { name: 'Create my passkey' }).click();
  await who.page.getByRole('button', { name: 'Sign out' }).waitFor();
}
