import type { DataSource } from 'typeorm';
import type { Env } from '../common/config';
import { openDatabase, type DatabaseSpec } from '../common/database';
import { entities } from './entities';
import { CreateConsents1764230400000 } from './migrations/1764230400000-create-consents';

/** `consent.sqlite`, or the `consent` schema in PostgreSQL. */
export const CONSENT_DATABASE: DatabaseSpec = { name: 'consent', entities, migrations: [CreateConsents1764230400000] };

export function openConsentDatabase(env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'>): Promise<DataSource> {
  return openDatabase(CONSENT_DATABASE, env);
}
