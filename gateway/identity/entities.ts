/**
 * What the gateway stores about people: users, their passkeys, one-time enrolment codes,
 * pending WebAuthn challenges, sessions and API tokens. Secrets (codes, refresh tokens,
 * API tokens) are stored only as SHA-256 digests: a leaked table grants nothing.
 */
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { isoInstant } from '../../common/database';
import type { Role } from '../../common/signed-identity';

@Entity({ name: 'app_user' })
export class User {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Index('ux_user_username', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  username!: string;

  @Column({ type: 'varchar', length: 16 })
  role!: Role;

  @Column({ name: 'institution_id', type: 'varchar', length: 40, nullable: true })
  institutionId!: string | null;

  @Column({ name: 'patient_id', type: 'varchar', length: 40, nullable: true })
  patientId!: string | null;

  @Column({ name: 'practitioner_id', type: 'varchar', length: 40, nullable: true })
  practitionerId!: string | null;

  @Column({ name: 'created_at', type: 'varchar', length: 24, transformer: isoInstant })
  createdAt!: Date;
}

@Entity({ name: 'passkey' })
export class Passkey {
  /** The credential id, base64url, as the authenticator reports it. */
  @PrimaryColumn({ type: 'varchar', length: 1400 })
  id!: string;

  @Index('ix_passkey_user')
  @Column({ name: 'user_id', type: 'varchar', length: 40 })
  userId!: string;

  /** COSE public key, base64url. */
  @Column({ name: 'public_key', type: 'varchar', length: 2000 })
  publicKey!: string;

  /** The authenticator's signature counter; a counter that goes backwards means a clone. */
  @Column({ type: 'integer' })
  counter!: number;

  /** JSON array of transports (usb, internal, hybrid...). */
  @Column({ type: 'varchar', length: 200 })
  transports!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ name: 'created_at', type: 'varchar', length: 24, transformer: isoInstant })
  createdAt!: Date;

  @Column({ name: 'last_used_at', type: 'varchar', length: 24, transformer: isoInstant, nullable: true })
  lastUsedAt!: Date | null;
}

@Entity({ name: 'enrolment_code' })
export class EnrolmentCode {
  /** SHA-256 of the code, base64url. */
  @PrimaryColumn({ name: 'code_hash', type: 'varchar', length: 64 })
  codeHash!: string;

  @Column({ type: 'varchar', length: 16 })
  role!: Role;

  @Column({ name: 'institution_id', type: 'varchar', length: 40, nullable: true })
  institutionId!: string | null;

  @Column({ name: 'patient_id', type: 'varchar', length: 40, nullable: true })
  patientId!: string | null;

  @Column({ name: 'practitioner_id', type: 'varchar', length: 40, nullable: true })
  practitionerId!: string | null;

  @Column({ name: 'expires_at', type: 'varchar', length: 24, transformer: isoInstant })
  expiresAt!: Date;

  @Column({ name: 'used_at', type: 'varchar', length: 24, transformer: isoInstant, nullable: true })
  usedAt!: Date | null;

  @Column({ name: 'used_by', type: 'varchar', length: 40, nullable: true })
  usedBy!: string | null;
}

export type ChallengePurpose = 'register' | 'login';

@Entity({ name: 'webauthn_challenge' })
@Index('ix_challenge_user', ['username', 'purpose'])
export class Challenge {
  /** The challenge itself, base64url: random, so it doubles as the key. */
  @PrimaryColumn({ type: 'varchar', length: 128 })
  challenge!: string;

  @Column({ type: 'varchar', length: 64 })
  username!: string;

  @Column({ type: 'varchar', length: 16 })
  purpose!: ChallengePurpose;

  /** For a registration: the enrolment code it will consume, or the user adding a passkey. */
  @Column({ name: 'code_hash', type: 'varchar', length: 64, nullable: true })
  codeHash!: string | null;

  @Column({ name: 'user_id', type: 'varchar', length: 40, nullable: true })
  userId!: string | null;

  @Column({ name: 'expires_at', type: 'varchar', length: 24, transformer: isoInstant })
  expiresAt!: Date;

  @Column({ name: 'used_at', type: 'varchar', length: 24, transformer: isoInstant, nullable: true })
  usedAt!: Date | null;
}

@Entity({ name: 'session' })
export class Session {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Index('ix_session_user')
  @Column({ name: 'user_id', type: 'varchar', length: 40 })
  userId!: string;

  /** SHA-256 of the current refresh token; rotated on every refresh. */
  @Column({ name: 'refresh_hash', type: 'varchar', length: 64 })
  refreshHash!: string;

  @Column({ name: 'created_at', type: 'varchar', length: 24, transformer: isoInstant })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'varchar', length: 24, transformer: isoInstant })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', type: 'varchar', length: 24, transformer: isoInstant, nullable: true })
  revokedAt!: Date | null;
}

@Entity({ name: 'api_token' })
@Index('ux_api_token_user_name', ['userId', 'name'], { unique: true })
export class ApiToken {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 40 })
  userId!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  /** Comma-separated scopes. */
  @Column({ type: 'varchar', length: 100 })
  scopes!: string;

  @Column({ name: 'secret_hash', type: 'varchar', length: 64 })
  secretHash!: string;

  @Column({ name: 'created_at', type: 'varchar', length: 24, transformer: isoInstant })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'varchar', length: 24, transformer: isoInstant })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', type: 'varchar', length: 24, transformer: isoInstant, nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'last_used_at', type: 'varchar', length: 24, transformer: isoInstant, nullable: true })
  lastUsedAt!: Date | null;
}

export const entities = [User, Passkey, EnrolmentCode, Challenge, Session, ApiToken];
