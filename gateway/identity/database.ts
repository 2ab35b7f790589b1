import type { DataSource } from 'typeorm';
import type { Env } from '../../common/config';
import { openDatabase, type DatabaseSpec } from '../../common/database';
import { entities } from './entities';
import { CreateIdentity1764057600000 } from './migrations/1764057600000-create-identity';

/** The gateway's own database: `identity.sqlite`, or the `identity` schema in PostgreSQL. */
export const IDENTITY_DATABASE: DatabaseSpec = {
  name: 'identity',
  entities,
  migrations: [CreateIdentity1764057600000],
};

export function openIdentityDatabase(env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'>): Promise<DataSource> {
  return openDatabase(IDENTITY_DATABASE, env);
}
