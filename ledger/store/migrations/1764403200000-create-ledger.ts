import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { col } from '../../../common/migration';

const HASH_BASE64 = 44;

export class CreateLedger1764403200000 implements MigrationInterface {
  name = 'CreateLedger1764403200000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'ledger_leaf',
        columns: [
          { ...col.int('leaf_index'), isPrimary: true },
          col.ref('event_id'),
          col.text('leaf_hash', HASH_BASE64),
          { name: 'leaf_data', type: 'text' },
          col.instant('appended_at'),
        ],
        indices: [new TableIndex({ name: 'ux_ledger_leaf_event', columnNames: ['event_id'], isUnique: true })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'ledger_node',
        columns: [{ ...col.int('level'), isPrimary: true }, { ...col.int('idx'), isPrimary: true }, col.text('hash', HASH_BASE64)],
      }),
    );
    await q.createTable(new Table({ name: 'ledger_state', columns: [{ ...col.int('id'), isPrimary: true }, col.int('size')] }));
    // The one row every append compare-and-sets; it exists from the start so that the
    // first append is an UPDATE like every other, never a racy INSERT.
    await q.manager.createQueryBuilder().insert().into('ledger_state', ['id', 'size']).values({ id: 1, size: 0 }).execute();
    await q.createTable(
      new Table({
        name: 'ledger_checkpoint',
        columns: [
          { ...col.int('size'), isPrimary: true },
          col.text('root', HASH_BASE64),
          { name: 'note', type: 'text' },
          col.instant('published_at'),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['ledger_checkpoint', 'ledger_state', 'ledger_node', 'ledger_leaf']) await q.dropTable(t);
  }
}
