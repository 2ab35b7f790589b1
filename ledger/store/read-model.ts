/**
 * Reading the ledger back — the one read model behind GET /ledger/* (gateway/ledger-routes.ts)
 * and the audit subgraph (subgraphs/audit/ledger-reader.ts): leaves by index or by their
 * search columns, each read by the one leaf parser (ledger/core/leaf.ts readLeaf); the
 * stored checkpoints; the tree for roots and proofs. `custodian verify` reads the same
 * leaves over HTTP with the same parser.
 *
 * On SQLite, call these from a process that does not also append, or through
 * `exclusive` (database.ts) — entry() and the checkpoint reads do so themselves.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { decodeBase64Strict, encodeBase64 } from '../core/encoding';
import { leafHash } from '../core/hashing';
import { readLeaf, type LeafFormat, type LedgerEvent } from '../core/leaf';
import { MerkleTree } from '../core/tree';
import { DbNodeStore } from './db-node-store';
import { LedgerCheckpoint, LedgerLeaf, LedgerLeafIndex } from './entities';
import { exclusive } from './database';

/** A leaf as stored, and what it says. */
export interface StoredLeaf {
  readonly index: number;
  /** base64 SHA-256(0x00 ‖ leaf data), as stored: a client recomputes it from `leafData` to check. */
  readonly leafHash: string;
  /** base64 of the exact bytes that were hashed. */
  readonly leafData: string;
  readonly format: LeafFormat;
  /** What the bytes say (without the format field). */
  readonly event: LedgerEvent;
}

function storedLeaf(index: number | string, leafHashText: string, data: Buffer): StoredLeaf {
  return { index: Number(index), leafHash: leafHashText, leafData: encodeBase64(data), ...readLeaf(data) };
}

/** The leaf at `index`, or null when there is none. Refuses a leaf whose bytes no longer hash to its stored hash. */
export function entry(db: DataSource, index: number): Promise<StoredLeaf | null> {
  if (!Number.isSafeInteger(index) || index < 0 || index > 2 ** 31 - 1) return Promise.resolve(null);
  return exclusive(db, async () => {
    const row = await db.manager.findOne(LedgerLeaf, { where: { leafIndex: index } });
    if (!row) return null;
    const data = Buffer.from(row.leafData, 'utf8');
    // The stored text must still be the bytes that were hashed; refuse to serve it otherwise.
    if (!decodeBase64Strict(row.leafHash)?.equals(leafHash(data))) {
      throw new Error(`ledger leaf ${index} does not match its stored hash`);
    }
    return storedLeaf(row.leafIndex, row.leafHash, data);
  });
}

/** What the leaf search (ledger_leaf_index) can filter on; every field optional. */
export interface LeafFilter {
  /** The one event with this id (the outbox id; unique in the ledger). */
  eventId?: string | null;
  patientId?: string | null;
  subject?: string | null;
  /** Leave out this actor's events (a patient's own reads of their record). */
  notSubject?: string | null;
  /**
   * Events whose actor acted as this practitioner record. No search column holds it, so
   * it is matched in the leaf's canonical JSON (RFC 8785 writes `"practitionerId":"<id>"`
   * exactly so): a scan from the newest leaf down, which stops at the page's limit.
   */
  practitionerId?: string | null;
  category?: string | null;
  decision?: 'permit' | 'deny' | null;
  /** An event kind: one declared in ledger/core/events.ts, or any kind an older leaf holds. */
  kind?: string | null;
  from?: Date | null;
  to?: Date | null;
}

/** `text` as a LIKE pattern that matches only itself (with ESCAPE '\\'). */
const likeEscaped = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The leaves matching `filter`, as a query to select from (i: the search columns, l: the leaf). */
function matching(db: DataSource, filter: LeafFilter) {
  const qb = db.createQueryBuilder().from(LedgerLeafIndex, 'i').innerJoin(LedgerLeaf, 'l', 'l.leafIndex = i.leafIndex').where('1 = 1');
  if (filter.eventId) qb.andWhere('l.eventId = :eventId', { eventId: filter.eventId });
  if (filter.patientId) qb.andWhere('i.patientId = :patientId', { patientId: filter.patientId });
  if (filter.subject) qb.andWhere('i.subject = :subject', { subject: filter.subject });
  if (filter.practitionerId) {
    // JSON.stringify writes a string as RFC 8785 does (the same escapes).
    const needle = `"practitionerId":${JSON.stringify(filter.practitionerId)}`;
    qb.andWhere("l.leafData LIKE :practitioner ESCAPE '\\'", { practitioner: `%${likeEscaped(needle)}%` });
  }
  if (filter.notSubject) qb.andWhere('(i.subject IS NULL OR i.subject <> :notSubject)', { notSubject: filter.notSubject });
  if (filter.category) qb.andWhere('i.category = :category', { category: filter.category });
  if (filter.decision) qb.andWhere('i.decision = :decision', { decision: filter.decision });
  if (filter.kind) qb.andWhere('i.kind = :kind', { kind: filter.kind });
  // Instants are fixed-width UTC text, so text order is time order.
  if (filter.from) qb.andWhere('i.at >= :from', { from: filter.from.toISOString() });
  if (filter.to) qb.andWhere('i.at < :to', { to: filter.to.toISOString() });
  return qb;
}

/**
 * Leaves matching `filter`, newest first: `limit` of them below `beforeIndex` (when given).
 * `more.aboveIndex` keeps only leaves above an index, and `more.oldestFirst` fetches from the
 * other end (a backward page, common/pagination.ts).
 */
export async function findLeaves(
  db: DataSource,
  filter: LeafFilter,
  limit: number,
  beforeIndex?: number,
  more: { aboveIndex?: number; oldestFirst?: boolean } = {},
): Promise<StoredLeaf[]> {
  const qb = matching(db, filter).select('i.leafIndex', 'leaf_index').addSelect('l.leafData', 'leaf_data').addSelect('l.leafHash', 'leaf_hash');
  if (beforeIndex !== undefined) qb.andWhere('i.leafIndex < :before', { before: beforeIndex });
  if (more.aboveIndex !== undefined) qb.andWhere('i.leafIndex > :above', { above: more.aboveIndex });
  const rows: { leaf_index: number | string; leaf_data: string; leaf_hash: string }[] = await qb
    .orderBy('i.leafIndex', more.oldestFirst ? 'ASC' : 'DESC')
    .limit(limit)
    .getRawMany();
  return rows.map((r) => storedLeaf(r.leaf_index, r.leaf_hash, Buffer.from(r.leaf_data, 'utf8')));
}

/** How many leaves match `filter` (a COUNT over the same search as findLeaves). */
export async function countLeaves(db: DataSource, filter: LeafFilter): Promise<number> {
  const row: { n: number | string } | undefined = await matching(db, filter).select('COUNT(*)', 'n').getRawOne();
  return Number(row?.n ?? 0);
}

/** The Merkle tree over the ledger database, for roots and proofs. */
export function ledgerTree(db: DataSource): MerkleTree {
  return new MerkleTree(new DbNodeStore(db));
}

export interface StoredCheckpoint {
  readonly size: number;
  /** base64 root hash. */
  readonly root: string;
  /** The signed note, as served at GET /ledger/checkpoint. */
  readonly note: string;
  readonly publishedAt: Date;
}

function toStored(row: LedgerCheckpoint | null | undefined): StoredCheckpoint | null {
  if (!row) return null;
  return { size: Number(row.size), root: row.root, note: row.note, publishedAt: row.publishedAt };
}

/** The latest checkpoint, read in the caller's turn (the publisher holds `exclusive` already). */
export async function readLatestCheckpoint(manager: EntityManager): Promise<StoredCheckpoint | null> {
  return toStored(await manager.createQueryBuilder(LedgerCheckpoint, 'c').orderBy('c.size', 'DESC').limit(1).getOne());
}

export function latestCheckpoint(db: DataSource): Promise<StoredCheckpoint | null> {
  return exclusive(db, () => readLatestCheckpoint(db.manager));
}

export function checkpointAt(db: DataSource, size: number): Promise<StoredCheckpoint | null> {
  if (!Number.isSafeInteger(size) || size < 0) return Promise.resolve(null);
  return exclusive(db, async () => toStored(await db.manager.findOne(LedgerCheckpoint, { where: { size } })));
}

/** Every stored checkpoint from `fromSize` on, oldest first (at most `limit`). */
export function checkpointsSince(db: DataSource, fromSize = 0, limit = 1000): Promise<StoredCheckpoint[]> {
  return exclusive(db, async () => {
    const rows = await db.manager.createQueryBuilder(LedgerCheckpoint, 'c').where('c.size >= :fromSize', { fromSize }).orderBy('c.size', 'ASC').limit(limit).getMany();
    return rows.map((r) => toStored(r)!);
  });
}

/** Stored checkpoints of size below `before` (all when undefined), newest first (at most `limit`). */
export function checkpointsBefore(db: DataSource, before: number | undefined, limit: number): Promise<StoredCheckpoint[]> {
  return exclusive(db, async () => {
    const query = db.manager.createQueryBuilder(LedgerCheckpoint, 'c').orderBy('c.size', 'DESC').limit(limit);
    if (before !== undefined) query.where('c.size < :before', { before });
    return (await query.getMany()).map((r) => toStored(r)!);
  });
}
