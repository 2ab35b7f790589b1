import type { DataSource } from 'typeorm';
import type { Env } from '../../common/config';
import { openDatabase, type DatabaseSpec } from '../../common/database';
import { OutboxEvent } from '../../ledger/pipeline/outbox';
import { OUTBOX_MIGRATIONS } from '../../ledger/pipeline/migrations';
import { entities } from './entities';
import { CreateIdentity1764057600000 } from './migrations/1764057600000-create-identity';

/**
 * The gateway's own database: `identity.sqlite`, or the `identity` schema in PostgreSQL;
 * with an outbox, since enrolments, passkeys, sessions and API tokens are ledgered.
 */
export const IDENTITY_DATABASE: DatabaseSpec = {
  name: 'identity',
  entities: [...entities, OutboxEvent],
  migrations: [CreateIdentity1764057600000, ...OUTBOX_MIGRATIONS],
};

export function openIdentityDatabase(env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'>): Promise<DataSource> {
  return openDatabase(IDENTITY_DATABASE, env);
}
