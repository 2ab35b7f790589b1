import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { col } from '../../../common/migration';
import { leafIndexRowOfData } from '../leaf-index';

/** Rows per backfill read and insert. */
const CHUNK = 500;

/** The audit trail's search columns (see LedgerLeafIndex), backfilled from the leaves already there. */
export class CreateLeafIndex1764921600000 implements MigrationInterface {
  name = 'CreateLeafIndex1764921600000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'ledger_leaf_index',
        columns: [
          { ...col.int('leaf_index'), isPrimary: true },
          col.text('kind', 100),
          col.instant('at'),
          col.text('patient_id', 100, true),
          col.text('subject', 100, true),
          col.text('category', 100, true),
          col.text('decision', 100, true),
        ],
        indices: [
          new TableIndex({ name: 'ix_ledger_leaf_index_patient', columnNames: ['patient_id', 'leaf_index'] }),
          new TableIndex({ name: 'ix_ledger_leaf_index_subject', columnNames: ['subject', 'leaf_index'] }),
          new TableIndex({ name: 'ix_ledger_leaf_index_kind', columnNames: ['kind', 'leaf_index'] }),
          new TableIndex({ name: 'ix_ledger_leaf_index_at', columnNames: ['at'] }),
        ],
      }),
    );
    for (let from = 0; ; from += CHUNK) {
      const leaves: { leaf_index: number | string; leaf_data: string }[] = await q.manager
        .createQueryBuilder()
        .select(['l.leaf_index AS leaf_index', 'l.leaf_data AS leaf_data'])
        .from('ledger_leaf', 'l')
        .where('l.leaf_index >= :from AND l.leaf_index < :to', { from, to: from + CHUNK })
        .orderBy('l.leaf_index')
        .getRawMany();
      if (!leaves.length) break;
      const rows = leaves.map((l) => {
        const r = leafIndexRowOfData(Number(l.leaf_index), l.leaf_data);
        return { leaf_index: r.leafIndex, kind: r.kind, at: r.at.toISOString(), patient_id: r.patientId, subject: r.subject, category: r.category, decision: r.decision };
      });
      await q.manager.createQueryBuilder().insert().into('ledger_leaf_index').values(rows).execute();
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('ledger_leaf_index');
  }
}
