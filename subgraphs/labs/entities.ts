import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { isoInstant } from '../../common/database';

export type Interpretation = 'LOW' | 'NORMAL' | 'HIGH' | 'CRITICALLY_LOW' | 'CRITICALLY_HIGH';
export type ResultStatus = 'PRELIMINARY' | 'FINAL' | 'AMENDED' | 'CANCELLED';

/** A laboratory result: FHIR Observation (category laboratory), reduced. */
@Entity({ name: 'lab_result' })
@Index('ix_lab_patient_time', ['patientId', 'effectiveAt', 'id'])
@Index('ix_lab_patient_code_time', ['patientId', 'loincCode', 'effectiveAt', 'id'])
export class LabResult {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'patient_id', type: 'varchar', length: 40 })
  patientId!: string;

  @Column({ name: 'loinc_code', type: 'varchar', length: 16 })
  loincCode!: string;

  @Column({ name: 'loinc_display', type: 'varchar', length: 200 })
  loincDisplay!: string;

  @Column({ type: 'double precision' })
  value!: number;

  /** UCUM */
  @Column({ type: 'varchar', length: 32 })
  unit!: string;

  @Column({ name: 'reference_low', type: 'double precision', nullable: true })
  referenceLow!: number | null;

  @Column({ name: 'reference_high', type: 'double precision', nullable: true })
  referenceHigh!: number | null;

  @Column({ type: 'varchar', length: 16 })
  interpretation!: Interpretation;

  @Column({ type: 'varchar', length: 16 })
  status!: ResultStatus;

  @Column({ name: 'effective_at', type: 'varchar', length: 24, transformer: isoInstant })
  effectiveAt!: Date;

  @Column({ name: 'issuer_id', type: 'varchar', length: 40 })
  issuerId!: string;
}

export const entities = [LabResult];
