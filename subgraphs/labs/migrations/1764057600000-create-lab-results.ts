import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { col } from '../../../common/migration';

export class CreateLabResults1764057600000 implements MigrationInterface {
  name = 'CreateLabResults1764057600000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'lab_result',
        columns: [
          col.id(),
          col.ref('patient_id'),
          col.text('loinc_code', 16),
          col.text('loinc_display', 200),
          col.double('value'),
          col.text('unit', 32),
          col.double('reference_low', true),
          col.double('reference_high', true),
          col.text('interpretation', 16),
          col.text('status', 16),
          col.instant('effective_at'),
          col.ref('issuer_id'),
        ],
        indices: [
          new TableIndex({ name: 'ix_lab_patient_time', columnNames: ['patient_id', 'effective_at', 'id'] }),
          new TableIndex({ name: 'ix_lab_patient_code_time', columnNames: ['patient_id', 'loinc_code', 'effective_at', 'id'] }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('lab_result');
  }
}
