import { Column, Entity, Index, JoinColumn, ManyToOne, OneToMany, PrimaryColumn } from 'typeorm';

export type InstitutionKind = 'HOSPITAL' | 'LABORATORY' | 'RESEARCH_INSTITUTE';
export type PractitionerRole = 'CLINICIAN' | 'RESEARCHER' | 'COMPLIANCE_OFFICER';
export type AdministrativeSex = 'FEMALE' | 'MALE' | 'OTHER' | 'UNKNOWN';

@Entity({ name: 'institution' })
export class Institution {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 32 })
  kind!: InstitutionKind;

  /** ISO 3166-1 alpha-2 */
  @Column({ type: 'varchar', length: 2 })
  country!: string;
}

@Entity({ name: 'practitioner' })
export class Practitioner {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Index()
  @Column({ name: 'institution_id', type: 'varchar', length: 40 })
  institutionId!: string;

  @Column({ name: 'given_name', type: 'varchar', length: 100 })
  givenName!: string;

  @Column({ name: 'family_name', type: 'varchar', length: 100 })
  familyName!: string;

  @Column({ type: 'varchar', length: 32 })
  role!: PractitionerRole;
}

@Entity({ name: 'patient' })
export class Patient {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Index()
  @Column({ name: 'institution_id', type: 'varchar', length: 40 })
  institutionId!: string;

  /** Space-separated given names, in order. */
  @Column({ name: 'given_name', type: 'varchar', length: 100 })
  givenName!: string;

  @Column({ name: 'family_name', type: 'varchar', length: 100 })
  familyName!: string;

  /** YYYY-MM-DD */
  @Column({ name: 'birth_date', type: 'varchar', length: 10 })
  birthDate!: string;

  @Column({ type: 'varchar', length: 8 })
  sex!: AdministrativeSex;

  @OneToMany(() => PatientIdentifier, (identifier) => identifier.patient)
  identifiers?: PatientIdentifier[];
}

@Entity({ name: 'patient_identifier' })
@Index(['system', 'value'], { unique: true })
export class PatientIdentifier {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Index()
  @Column({ name: 'patient_id', type: 'varchar', length: 40 })
  patientId!: string;

  @ManyToOne(() => Patient, (patient) => patient.identifiers, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'patient_id' })
  patient?: Patient;

  @Column({ type: 'varchar', length: 200 })
  system!: string;

  @Column({ type: 'varchar', length: 100 })
  value!: string;
}

export const entities = [Institution, Practitioner, Patient, PatientIdentifier];
