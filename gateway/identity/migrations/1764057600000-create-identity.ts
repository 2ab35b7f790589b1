import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { col } from '../../../common/migration';

export class CreateIdentity1764057600000 implements MigrationInterface {
  name = 'CreateIdentity1764057600000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'app_user',
        columns: [
          col.id(),
          col.text('username', 64),
          col.text('role', 16),
          col.ref('institution_id', true),
          col.ref('patient_id', true),
          col.ref('practitioner_id', true),
          col.instant('created_at'),
        ],
        indices: [new TableIndex({ name: 'ux_user_username', columnNames: ['username'], isUnique: true })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'passkey',
        columns: [
          { ...col.text('id', 1400), isPrimary: true },
          col.ref('user_id'),
          col.text('public_key', 2000),
          col.int('counter'),
          col.text('transports', 200),
          col.text('name', 100),
          col.instant('created_at'),
          col.instant('last_used_at', true),
        ],
        indices: [new TableIndex({ name: 'ix_passkey_user', columnNames: ['user_id'] })],
        foreignKeys: [{ columnNames: ['user_id'], referencedTableName: 'app_user', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'enrolment_code',
        columns: [
          { ...col.text('code_hash', 64), isPrimary: true },
          col.text('role', 16),
          col.ref('institution_id', true),
          col.ref('patient_id', true),
          col.ref('practitioner_id', true),
          col.instant('expires_at'),
          col.instant('used_at', true),
          col.ref('used_by', true),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'webauthn_challenge',
        columns: [
          { ...col.text('challenge', 128), isPrimary: true },
          col.text('username', 64),
          col.text('purpose', 16),
          col.text('code_hash', 64, true),
          col.ref('user_id', true),
          col.instant('expires_at'),
          col.instant('used_at', true),
        ],
        indices: [new TableIndex({ name: 'ix_challenge_user', columnNames: ['username', 'purpose'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'session',
        columns: [
          col.id(),
          col.ref('user_id'),
          col.text('refresh_hash', 64),
          col.instant('created_at'),
          col.instant('expires_at'),
          col.instant('revoked_at', true),
        ],
        indices: [new TableIndex({ name: 'ix_session_user', columnNames: ['user_id'] })],
        foreignKeys: [{ columnNames: ['user_id'], referencedTableName: 'app_user', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'api_token',
        columns: [
          col.id(),
          col.ref('user_id'),
          col.text('name', 100),
          col.text('scopes', 100),
          col.text('secret_hash', 64),
          col.instant('created_at'),
          col.instant('expires_at'),
          col.instant('revoked_at', true),
          col.instant('last_used_at', true),
        ],
        indices: [new TableIndex({ name: 'ux_api_token_user_name', columnNames: ['user_id', 'name'], isUnique: true })],
        foreignKeys: [{ columnNames: ['user_id'], referencedTableName: 'app_user', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['api_token', 'session', 'webauthn_challenge', 'enrolment_code', 'passkey', 'app_user']) await q.dropTable(t);
  }
}
