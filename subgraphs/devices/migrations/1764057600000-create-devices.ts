import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { col } from '../../../common/migration';

export class CreateDevices1764057600000 implements MigrationInterface {
  name = 'CreateDevices1764057600000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'device',
        columns: [col.id(), col.text('kind', 32), col.text('model', 100), col.text('serial', 64), col.ref('owner_patient_id')],
        indices: [
          new TableIndex({ name: 'ux_device_serial', columnNames: ['serial'], isUnique: true }),
          new TableIndex({ name: 'ix_device_owner', columnNames: ['owner_patient_id'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'device_reading',
        columns: [col.id(), col.ref('device_id'), col.text('metric', 16), col.double('value'), col.text('unit', 16), col.instant('recorded_at')],
        indices: [
          new TableIndex({ name: 'ux_reading_device_metric_time', columnNames: ['device_id', 'metric', 'recorded_at'], isUnique: true }),
          new TableIndex({ name: 'ix_reading_device_time', columnNames: ['device_id', 'recorded_at', 'id'] }),
        ],
        foreignKeys: [{ columnNames: ['device_id'], referencedTableName: 'device', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('device_reading');
    await q.dropTable('device');
  }
}
