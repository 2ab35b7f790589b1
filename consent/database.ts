import type { DataSource } from 'typeorm';
import type { Env } from '../common/config';
import { openDatabase, type DatabaseSpec } from '../common/database';
import { OutboxEvent } from '../ledger/pipeline/outbox';
import { OUTBOX_MIGRATIONS } from '../ledger/pipeline/migrations';
import { entities } from './entities';
import { CreateConsents1764230400000 } from './migrations/1764230400000-create-consents';

/**
 * `consent.sqlite`, or the `consent` schema in PostgreSQL; with an outbox, since consent
 * changes and break-the-glass accesses are ledgered in the transaction that makes them.
 */
export const CONSENT_DATABASE: DatabaseSpec = {
  name: 'consent',
  entities: [...entities, OutboxEvent],
  migrations: [CreateConsents1764230400000, ...OUTBOX_MIGRATIONS],
};

export function openConsentDatabase(env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'>): Promise<DataSource> {
  return openDatabase(CONSENT_DATABASE, env);
}
