import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { col } from '../../common/migration';

export class CreateConsents1764230400000 implements MigrationInterface {
  name = 'CreateConsents1764230400000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'consent',
        columns: [
          col.id(),
          col.ref('patient_id'),
          col.ref('parent_id', true),
          col.text('grantee_kind', 16),
          col.text('grantee_id', 100),
          col.text('categories', 100),
          col.text('actions', 20),
          col.text('purposes', 60),
          col.text('effect', 8),
          col.instant('valid_from'),
          col.instant('valid_until', true),
          col.text('data_loinc_class', 32, true),
          col.instant('data_from', true),
          col.instant('data_until', true),
          { name: 'identified', type: 'boolean', default: false },
          col.text('status', 16),
          col.instant('created_at'),
          col.ref('created_by'),
          col.instant('revoked_at', true),
        ],
        indices: [
          new TableIndex({ name: 'ix_consent_patient', columnNames: ['patient_id'] }),
          new TableIndex({ name: 'ix_consent_grantee', columnNames: ['grantee_kind', 'grantee_id'] }),
        ],
      }),
    );
    await q.createTable(new Table({ name: 'consent_version', columns: [{ ...col.ref('patient_id'), isPrimary: true }, col.int('version')] }));
    await q.createTable(
      new Table({
        name: 'project_member',
        columns: [
          { ...col.ref('project_id'), isPrimary: true },
          { ...col.ref('practitioner_id'), isPrimary: true },
        ],
        indices: [new TableIndex({ name: 'ix_member_practitioner', columnNames: ['practitioner_id'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'patient_home',
        columns: [{ ...col.ref('patient_id'), isPrimary: true }, col.ref('institution_id')],
        indices: [new TableIndex({ name: 'ix_home_institution', columnNames: ['institution_id'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'break_glass',
        columns: [
          col.id(),
          col.ref('user_id'),
          col.ref('patient_id'),
          col.text('justification', 2000),
          col.instant('started_at'),
          col.instant('expires_at'),
          col.instant('reviewed_at', true),
          col.ref('reviewed_by', true),
          col.text('review_note', 2000, true),
        ],
        indices: [new TableIndex({ name: 'ix_break_glass_patient', columnNames: ['patient_id'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['break_glass', 'patient_home', 'project_member', 'consent_version', 'consent']) await q.dropTable(t);
  }
}
