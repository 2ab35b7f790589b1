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

/**
 * A reading as a research series sees it: the view research_reading (migration
 * 1766000000000), never written. No device id, serial or model: only the kind of device.
 */
@Entity({ name: 'research_reading', synchronize: false })
export class ResearchReadingRow {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  metric!: Metric;

  @Column({ type: 'double precision' })
  value!: number;

  @Column({ type: 'varchar', length: 16 })
  unit!: string;

  @Column({ name: 'recorded_at', type: 'varchar', length: 24, transformer: isoInstant })
  recordedAt!: Date;

  @Column({ name: 'device_kind', type: 'varchar', length: 32 })
  deviceKind!: DeviceKind;

  @Column({ name: 'owner_patient_id', type: 'varchar', length: 40 })
  ownerPatientId!: string;
}

export const entities = [Device, DeviceReading, ResearchReadingRow];
