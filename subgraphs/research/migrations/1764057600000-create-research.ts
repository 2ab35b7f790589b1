import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { col } from '../../../common/migration';

export class CreateResearch1764057600000 implements MigrationInterface {
  name = 'CreateResearch1764057600000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'research_project',
        columns: [
          col.id(),
          col.text('title', 300),
          col.text('purpose', 2000),
          col.text('status', 16),
          col.ref('institution_id'),
          col.ref('principal_investigator_id'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'enrolment',
        columns: [col.id(), col.ref('project_id'), col.ref('patient_id'), col.instant('enrolled_at'), col.text('status', 16)],
        indices: [
          new TableIndex({ name: 'ux_enrolment_project_patient', columnNames: ['project_id', 'patient_id'], isUnique: true }),
          new TableIndex({ name: 'ix_enrolment_project_time', columnNames: ['project_id', 'enrolled_at', 'id'] }),
          new TableIndex({ name: 'ix_enrolment_patient', columnNames: ['patient_id'] }),
        ],
        foreignKeys: [{ columnNames: ['project_id'], referencedTableName: 'research_project', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('enrolment');
    await q.dropTable('research_project');
  }
}
