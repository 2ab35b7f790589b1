import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { col } from '../../../common/migration';

/** Per witness (its cosigner verifier key), the tree size it last cosigned: the old size of the next request (pipeline/witnesses.ts). */
export class CreateLedgerWitness1765000002000 implements MigrationInterface {
  name = 'CreateLedgerWitness1765000002000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'ledger_witness',
        columns: [{ ...col.text('witness_key', 200), isPrimary: true }, col.int('size'), col.instant('cosigned_at')],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('ledger_witness');
  }
}
