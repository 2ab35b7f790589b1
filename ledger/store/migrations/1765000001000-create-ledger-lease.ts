import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { col } from '../../../common/migration';

/** The append lease on SQLite (see store/lease.ts); PostgreSQL uses an advisory lock and leaves it empty. */
export class CreateLedgerLease1765000001000 implements MigrationInterface {
  name = 'CreateLedgerLease1765000001000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({ name: 'ledger_lease', columns: [{ ...col.int('id'), isPrimary: true }, col.text('holder', 64), col.instant('expires_at')] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('ledger_lease');
  }
}
