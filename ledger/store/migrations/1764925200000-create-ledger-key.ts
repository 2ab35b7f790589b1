import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { col } from '../../../common/migration';

/** Verifier keys, published through the database (see LedgerVerifierKey). */
export class CreateLedgerKey1764925200000 implements MigrationInterface {
  name = 'CreateLedgerKey1764925200000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(new Table({ name: 'ledger_key', columns: [{ ...col.text('verifier_key', 200), isPrimary: true }, col.instant('first_used_at')] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('ledger_key');
  }
}
