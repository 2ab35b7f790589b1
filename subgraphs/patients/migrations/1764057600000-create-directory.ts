import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { col } from '../../../common/migration';

export class CreateDirectory1764057600000 implements MigrationInterface {
  name = 'CreateDirectory1764057600000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'institution',
        columns: [col.id(), col.text('name', 200), col.text('kind', 32), col.text('country', 2)],
      }),
    );
    await q.createTable(
      new Table({
        name: 'practitioner',
        columns: [col.id(), col.ref('institution_id'), col.text('given_name', 100), col.text('family_name', 100), col.text('role', 32)],
        indices: [new TableIndex({ name: 'ix_practitioner_institution', columnNames: ['institution_id'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'patient',
        columns: [
          col.id(),
          col.ref('institution_id'),
          col.text('given_name', 100),
          col.text('family_name', 100),
          col.text('birth_date', 10),
          col.text('sex', 8),
        ],
        indices: [new TableIndex({ name: 'ix_patient_institution', columnNames: ['institution_id', 'id'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'patient_identifier',
        columns: [col.id(), col.ref('patient_id'), col.text('system', 200), col.text('value', 100)],
        indices: [
          new TableIndex({ name: 'ix_identifier_patient', columnNames: ['patient_id'] }),
          new TableIndex({ name: 'ux_identifier_system_value', columnNames: ['system', 'value'], isUnique: true }),
        ],
        foreignKeys: [{ columnNames: ['patient_id'], referencedTableName: 'patient', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['patient_identifier', 'patient', 'practitioner', 'institution']) await q.dropTable(table);
  }
}
