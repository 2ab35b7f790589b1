import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { isoInstant } from '../../common/database';
import type { DeviceKind, Metric } from './metrics';

@Entity({ name: 'device' })
export class Device {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ type: 'varchar', length: 32 })
  kind!: DeviceKind;

  @Column({ type: 'varchar', length: 100 })
  model!: string;

  @Index('ux_device_serial', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  serial!: string;

  @Index('ix_device_owner')
  @Column({ name: 'owner_patient_id', type: 'varchar', length: 40 })
  ownerPatientId!: string;

  /** Raw Ed25519 public key, base64url; batches must be signed by its private half. */
  @Column({ name: 'public_key', type: 'varchar', length: 64, nullable: true })
  publicKey!: string | null;

  /** The sequence number of the last batch accepted; the next must be greater. */
  @Column({ name: 'last_sequence', type: 'integer', default: 0 })
  lastSequence!: number;
}

@Entity({ name: 'device_reading' })
@Index('ux_reading_device_metric_time', ['deviceId', 'metric', 'recordedAt'], { unique: true })
@Index('ix_reading_device_time', ['deviceId', 'recordedAt', 'id'])
export class DeviceReading {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'device_id', type: 'varchar', length: 40 })
  deviceId!: string;

  @Column({ type: 'varchar', length: 16 })
  metric!: Metric;

  @Column({ type: 'double precision' })
  value!: number;

  @Column({ type: 'varchar', length: 16 })
  unit!: string;

  @Column({ name: 'recorded_at', type: 'varchar', length: 24, transformer: isoInstant })
  recordedAt!: Date;
}

export const entities = [Device, DeviceReading];
