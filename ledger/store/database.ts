import type { DataSource } from 'typeorm';
import type { Env } from '../../common/config';
import { openDatabase, serialized, type DatabaseSpec } from '../../common/database';
import { ledgerEntities } from './entities';
import { CreateLedger1764403200000 } from './migrations/1764403200000-create-ledger';
import { CreateLeafIndex1764921600000 } from './migrations/1764921600000-create-leaf-index';
import { CreateLedgerKey1764925200000 } from './migrations/1764925200000-create-ledger-key';
import { LedgerKeySizes1765000000000 } from './migrations/1765000000000-ledger-key-sizes';
import { CreateLedgerLease1765000001000 } from './migrations/1765000001000-create-ledger-lease';
import { CreateLedgerWitness1765000002000 } from './migrations/1765000002000-create-ledger-witness';

/** `ledger.sqlite`, or the `ledger` schema in PostgreSQL. */
export const LEDGER_DATABASE: DatabaseSpec = {
  name: 'ledger',
  entities: ledgerEntities,
  migrations: [CreateLedger1764403200000, CreateLeafIndex1764921600000, CreateLedgerKey1764925200000, LedgerKeySizes1765000000000, CreateLedgerLease1765000001000, CreateLedgerWitness1765000002000],
};

/** Opens (and migrates) the ledger database; see openDatabase for why it may retry. */
export function openLedgerDatabase(env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'>, attempts = 3): Promise<DataSource> {
  return openDatabase(LEDGER_DATABASE, env, attempts);
}

/**
 * Ledger writes, and reads that must not see half an append, take turns per DataSource
 * on SQLite — the same turn every other writer of that database takes (serialized).
 */
export const exclusive = serialized;
