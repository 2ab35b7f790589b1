/**
 * The consent store, shared by every subgraph process (each opens it to decide; the
 * patients subgraph writes it). Consents are the source of truth; Casbin policies are
 * derived from them per patient (consent/policy-lines.ts).
 */
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { isoInstant } from '../common/database';

export type GranteeKind = 'practitioner' | 'role' | 'project';
export type Effect = 'permit' | 'deny';

@Entity({ name: 'consent' })
@Index('ix_consent_patient', ['patientId'])
@Index('ix_consent_grantee', ['granteeKind', 'granteeId'])
export class Consent {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'patient_id', type: 'varchar', length: 40 })
  patientId!: string;

  /** A nested exception: a deny inside a permit (or the reverse) narrows its parent. */
  @Column({ name: 'parent_id', type: 'varchar', length: 40, nullable: true })
  parentId!: string | null;

  @Column({ name: 'grantee_kind', type: 'varchar', length: 16 })
  granteeKind!: GranteeKind;

  /** practitioner id; `<role>@<institution id>`; or research project id. */
  @Column({ name: 'grantee_id', type: 'varchar', length: 100 })
  granteeId!: string;

  /** "|"-separated categories. */
  @Column({ type: 'varchar', length: 100 })
  categories!: string;

  @Column({ type: 'varchar', length: 20 })
  actions!: string;

  @Column({ type: 'varchar', length: 60 })
  purposes!: string;

  @Column({ type: 'varchar', length: 8 })
  effect!: Effect;

  @Column({ name: 'valid_from', type: 'varchar', length: 24, transformer: isoInstant })
  validFrom!: Date;

  @Column({ name: 'valid_until', type: 'varchar', length: 24, transformer: isoInstant, nullable: true })
  validUntil!: Date | null;

  /** Exceptions only: the data they cover — one LOINC class, and/or results effective in [from, until). */
  @Column({ name: 'data_loinc_class', type: 'varchar', length: 32, nullable: true })
  dataLoincClass!: string | null;

  @Column({ name: 'data_from', type: 'varchar', length: 24, transformer: isoInstant, nullable: true })
  dataFrom!: Date | null;

  @Column({ name: 'data_until', type: 'varchar', length: 24, transformer: isoInstant, nullable: true })
  dataUntil!: Date | null;

  /** Research: the project may see who the patient is (otherwise a per-project pseudonym). */
  @Column({ type: 'boolean', default: false })
  identified!: boolean;

  @Column({ type: 'varchar', length: 16 })
  status!: 'active' | 'revoked';

  @Column({ name: 'created_at', type: 'varchar', length: 24, transformer: isoInstant })
  createdAt!: Date;

  @Column({ name: 'created_by', type: 'varchar', length: 40 })
  createdBy!: string;

  @Column({ name: 'revoked_at', type: 'varchar', length: 24, transformer: isoInstant, nullable: true })
  revokedAt!: Date | null;
}

/** Bumped in the same transaction as any change to a patient's consents: the zookie. */
@Entity({ name: 'consent_version' })
export class ConsentVersion {
  @PrimaryColumn({ name: 'patient_id', type: 'varchar', length: 40 })
  patientId!: string;

  @Column({ type: 'integer' })
  version!: number;
}

/** Who works on which research project (a consent to a project reaches its members). */
@Entity({ name: 'project_member' })
export class ProjectMember {
  @PrimaryColumn({ name: 'project_id', type: 'varchar', length: 40 })
  projectId!: string;

  @PrimaryColumn({ name: 'practitioner_id', type: 'varchar', length: 40 })
  practitionerId!: string;
}

/** A patient's home institution, for the base policy "clinicians where the patient is treated". */
@Entity({ name: 'patient_home' })
export class PatientHome {
  @PrimaryColumn({ name: 'patient_id', type: 'varchar', length: 40 })
  patientId!: string;

  @Column({ name: 'institution_id', type: 'varchar', length: 40 })
  institutionId!: string;
}

/** Break-the-glass: a clinician's time-boxed emergency access, always reviewed. */
@Entity({ name: 'break_glass' })
@Index('ix_break_glass_patient', ['patientId'])
export class BreakGlass {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 40 })
  userId!: string;

  @Column({ name: 'patient_id', type: 'varchar', length: 40 })
  patientId!: string;

  @Column({ type: 'varchar', length: 2000 })
  justification!: string;

  @Column({ name: 'started_at', type: 'varchar', length: 24, transformer: isoInstant })
  startedAt!: Date;

  @Column({ name: 'expires_at', type: 'varchar', length: 24, transformer: isoInstant })
  expiresAt!: Date;

  @Column({ name: 'reviewed_at', type: 'varchar', length: 24, transformer: isoInstant, nullable: true })
  reviewedAt!: Date | null;

  @Column({ name: 'reviewed_by', type: 'varchar', length: 40, nullable: true })
  reviewedBy!: string | null;

  @Column({ name: 'review_note', type: 'varchar', length: 2000, nullable: true })
  reviewNote!: string | null;
}

export const entities = [Consent, ConsentVersion, ProjectMember, PatientHome, BreakGlass];
