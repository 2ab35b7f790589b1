/**
 * The ledger's own database (`ledger.sqlite`, or the `ledger` schema in PostgreSQL).
 *
 * - ledger_leaf        one row per appended event: its position, the exact bytes hashed
 * - ledger_node        the perfect-subtree hashes the Merkle tree reads (see node-store.ts)
 * - ledger_state       one row: the committed tree size, the compare-and-set target
 * - ledger_checkpoint  every signed checkpoint ever published, by size
 *
 * Every integer here is a plain 32-bit `integer`: PostgreSQL returns `bigint` as a
 * string, and a ledger of 2^31 events is far beyond what one database would hold anyway.
 * Hashes are base64 text, the same form the public endpoints and checkpoints use.
 */
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { isoInstant } from '../common/database';

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

export const ledgerEntities = [LedgerLeaf, LedgerNode, LedgerState, LedgerCheckpoint];
