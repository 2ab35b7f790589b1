/**
 * A gateway in this process over a fresh database, with the ledger and identity
 * databases open beside it: what the ledger's verifier tests (the `custodian verify`
 * command, the portal's ledger pages, key rotation) stand on. Entries are appended and
 * checkpoints published straight into the ledger database; the gateway serves them.
 */
import { spawn } from 'node:child_process';
import type { DataSource } from 'typeorm';
import type { Env } from '../../common/config';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { createApiToken } from '../../gateway/identity/api-tokens';
import { openIdentityDatabase } from '../../gateway/identity/database';
import { createUser } from '../../gateway/identity/users';
import type { Role } from '../../common/signed-identity';
import { loadLedgerNoteKey, type LedgerNoteKey } from '../../ledger/core/note-key';
import { openLedgerDatabase } from '../../ledger/store/database';
import { freshDatabase, type TestDatabase } from './database';
import { CLI } from './hub';

export interface LedgerGateway {
  database: TestDatabase;
  gateway: RunningGateway;
  ledger: DataSource;
  identity: DataSource;
  /** A new user of that role and a read-only API token for them, valid a day. */
  tokenFor(username: string, role: Role): Promise<string>;
  /** The ledger's note key for that origin, generated on first use in DATA_DIR/signer. */
  signerKey(origin: string): LedgerNoteKey;
  /** Closes the databases and the gateway, and drops the database. */
  stop(): Promise<void>;
}

export async function startLedgerGateway(env: Partial<Env> = {}): Promise<LedgerGateway> {
  const database = await freshDatabase();
  const gateway = await startGateway({ env: { ...database.env, ...env }, port: 0 });
  const ledger = await openLedgerDatabase(database.env);
  const identity = await openIdentityDatabase(database.env);
  return {
    database,
    gateway,
    ledger,
    identity,
    async tokenFor(username, role) {
      const user = await createUser(identity, { username, role });
      return (await createApiToken(identity, user.id, { name: 'verify', scopes: ['read'], expiresInDays: 1 })).token;
    },
    signerKey: (origin) => loadLedgerNoteKey({ dataDir: `${database.env.DATA_DIR}/signer`, name: origin }),
    async stop() {
      await identity.destroy();
      await ledger.destroy();
      await gateway.close();
      await database.drop();
    },
  };
}

/**
 * The built `custodian verify`, as an operator runs it: its exit code and its output
 * lines (stdout and stderr as they came). Asynchronous, because the gateway answering
 * it runs in this process. CUSTODIAN_TOKEN is cleared so only `--token` counts.
 */
export function custodianVerify(...args: string[]): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'verify', ...args], { env: { ...process.env, CUSTODIAN_TOKEN: '' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, lines: out.trim().split('\n') }));
  });
}
