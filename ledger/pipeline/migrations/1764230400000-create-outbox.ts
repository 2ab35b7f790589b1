import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { col } from '../../../common/migration';

/** Every subgraph database has an outbox (see ledger/pipeline/outbox.ts). */
export class CreateOutbox1764230400000 implements MigrationInterface {
  name = 'CreateOutbox1764230400000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'outbox',
        columns: [col.id(), col.text('kind', 64), { name: 'payload', type: 'text' }, col.instant('created_at'), col.instant('relayed_at', true)],
        indices: [new TableIndex({ name: 'ix_outbox_pending', columnNames: ['relayed_at', 'created_at'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('outbox');
  }
}
