import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { isoInstant } from '../../common/database';

export type ProjectStatus = 'PLANNED' | 'RECRUITING' | 'ACTIVE' | 'CLOSED';
export type EnrolmentStatus = 'ACTIVE' | 'WITHDRAWN' | 'COMPLETED';

@Entity({ name: 'research_project' })
export class ResearchProject {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ type: 'varchar', length: 300 })
  title!: string;

  @Column({ type: 'varchar', length: 2000 })
  purpose!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: ProjectStatus;

  @Column({ name: 'institution_id', type: 'varchar', length: 40 })
  institutionId!: string;

  @Column({ name: 'principal_investigator_id', type: 'varchar', length: 40 })
  principalInvestigatorId!: string;
}

@Entity({ name: 'enrolment' })
@Index('ux_enrolment_project_patient', ['projectId', 'patientId'], { unique: true })
@Index('ix_enrolment_patient', ['patientId'])
export class Enrolment {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'project_id', type: 'varchar', length: 40 })
  projectId!: string;

  @Column({ name: 'patient_id', type: 'varchar', length: 40 })
  patientId!: string;

  @Column({ name: 'enrolled_at', type: 'varchar', length: 24, transformer: isoInstant })
  enrolledAt!: Date;

  @Column({ type: 'varchar', length: 16 })
  status!: EnrolmentStatus;
}

export const entities = [ResearchProject, Enrolment];
