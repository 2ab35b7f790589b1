/**
 * The ledger's own database (`ledger.sqlite`, or the `ledger` schema in PostgreSQL).
 *
 * - ledger_leaf        one row per appended event: its position, the exact bytes hashed
 * - ledger_node        the perfect-subtree hashes the Merkle tree reads (see core/node-store.ts)
 * - ledger_state       one row: the committed tree size, the compare-and-set target
 * - ledger_checkpoint  every signed checkpoint ever published, by size
 * - ledger_key         every note verifier key that has signed a checkpoint, with the
 *                      tree sizes it signs (rotation: see LedgerVerifierKey), so readers
 *                      (GET /ledger/key, /ledger/keys) never need the signer's secret
 * - ledger_leaf_index  what the audit trail searches by (kind, time, patient, actor,
 *                      category, decision), read out of each leaf's data and written in
 *                      the same transaction as the leaf; never hashed, rebuildable
 *
 * Every integer here is a plain 32-bit `integer`: PostgreSQL returns `bigint` as a
 * string, and a ledger of 2^31 events is far beyond what one database would hold anyway.
 * Hashes are base64 text, the same form the public endpoints and checkpoints use.
 */
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { isoInstant } from '../../common/database';

@Entity({ name: 'ledger_leaf' })
@Index('ux_ledger_leaf_event', ['eventId'], { unique: true })
export class LedgerLeaf {
  @PrimaryColumn({ name: 'leaf_index', type: 'integer' })
  leafIndex!: number;

  /** The outbox event id. Unique: the database, not the queue, decides "already appended". */
  @Column({ name: 'event_id', type: 'varchar', length: 40 })
  eventId!: string;

  /** base64 of SHA-256(0x00 ‖ leaf data). */
  @Column({ name: 'leaf_hash', type: 'varchar', length: 44 })
  leafHash!: string;

  /** The RFC 8785 canonical JSON of the event; its UTF-8 bytes are what was hashed. */
  @Column({ name: 'leaf_data', type: 'text' })
  leafData!: string;

  @Column({ name: 'appended_at', type: 'varchar', length: 24, transformer: isoInstant })
  appendedAt!: Date;
}

/** A perfect node: level 0 are the leaf hashes, (k, i) covers leaves [i·2^k, (i+1)·2^k). */
@Entity({ name: 'ledger_node' })
export class LedgerNode {
  @PrimaryColumn({ type: 'integer' })
  level!: number;

  @PrimaryColumn({ type: 'integer' })
  idx!: number;

  @Column({ type: 'varchar', length: 44 })
  hash!: string;
}

@Entity({ name: 'ledger_state' })
export class LedgerState {
  /** Always 1: a single row. */
  @PrimaryColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  size!: number;
}

@Entity({ name: 'ledger_checkpoint' })
export class LedgerCheckpoint {
  @PrimaryColumn({ type: 'integer' })
  size!: number;

  /** base64 root hash of the first `size` leaves. */
  @Column({ type: 'varchar', length: 44 })
  root!: string;

  /** The complete C2SP signed note, exactly as served. */
  @Column({ type: 'text' })
  note!: string;

  @Column({ name: 'published_at', type: 'varchar', length: 24, transformer: isoInstant })
  publishedAt!: Date;
}

/** Search columns of a leaf, so the audit trail filters in SQL instead of parsing every leaf. */
@Entity({ name: 'ledger_leaf_index' })
@Index('ix_ledger_leaf_index_patient', ['patientId', 'leafIndex'])
@Index('ix_ledger_leaf_index_subject', ['subject', 'leafIndex'])
@Index('ix_ledger_leaf_index_kind', ['kind', 'leafIndex'])
@Index('ix_ledger_leaf_index_at', ['at'])
export class LedgerLeafIndex {
  @PrimaryColumn({ name: 'leaf_index', type: 'integer' })
  leafIndex!: number;

  @Column({ type: 'varchar', length: 100 })
  kind!: string;

  /** The event's own instant (its `at`), as fixed-width UTC ISO-8601 text. */
  @Column({ type: 'varchar', length: 24, transformer: isoInstant })
  at!: Date;

  @Column({ name: 'patient_id', type: 'varchar', length: 100, nullable: true })
  patientId!: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  subject!: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  category!: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  decision!: string | null;
}

/**
 * A note verifier key (`<name>+<hex id>+<base64>`) and the checkpoints it signs: from
 * `fromSize` (the first key: 0; a rotated-in key: the size of the checkpoint that
 * announced it, signed by it and its predecessor) until `retiredAtSize` (the size of its
 * successor's announcing checkpoint — the last it signed), or on. Written by the
 * publisher in the transaction that stores the checkpoint (ledger/pipeline/checkpoint-publisher.ts),
 * so readers (GET /ledger/key, GET /ledger/keys) never need a signer's secret.
 */
@Entity({ name: 'ledger_key' })
export class LedgerVerifierKey {
  @PrimaryColumn({ name: 'verifier_key', type: 'varchar', length: 200 })
  verifierKey!: string;

  /** When its first checkpoint was published (for a rotated-in key: when it was announced). */
  @Column({ name: 'first_used_at', type: 'varchar', length: 24, transformer: isoInstant })
  firstUsedAt!: Date;

  /** The size of the first checkpoint it signs. */
  @Column({ name: 'from_size', type: 'integer', nullable: true })
  fromSize!: number | null;

  /** The size of the last checkpoint it signs (its successor's announcement); null while current. */
  @Column({ name: 'retired_at_size', type: 'integer', nullable: true })
  retiredAtSize!: number | null;
}

/**
 * Per witness of LEDGER_WITNESSES, the tree size it last cosigned (pipeline/witnesses.ts):
 * the `old` size of the next add-checkpoint request, so the proof sent is from the
 * checkpoint the witness holds. Only a hint — a witness answering 409 with another size
 * is believed and this row corrected.
 */
@Entity({ name: 'ledger_witness' })
export class LedgerWitness {
  /** The cosigner verifier key `<name>+<id>+<base64(0x04 ‖ key)>`. */
  @PrimaryColumn({ name: 'witness_key', type: 'varchar', length: 200 })
  witnessKey!: string;

  @Column({ type: 'integer' })
  size!: number;

  @Column({ name: 'cosigned_at', type: 'varchar', length: 24, transformer: isoInstant })
  cosignedAt!: Date;
}

export const ledgerEntities = [LedgerLeaf, LedgerNode, LedgerState, LedgerCheckpoint, LedgerLeafIndex, LedgerVerifierKey, LedgerWitness];
