import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/** Devices authenticate as devices: an Ed25519 public key each, and the last batch sequence accepted. */
export class DeviceKeys1764144000000 implements MigrationInterface {
  name = 'DeviceKeys1764144000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('device', [
      new TableColumn({ name: 'public_key', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'last_sequence', type: 'integer', default: 0 }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumns('device', ['last_sequence', 'public_key']);
  }
}
