/**
 * Signed checkpoints: after new leaves, the worker signs a C2SP checkpoint of the tree
 * and stores it; every checkpoint is kept, so any earlier one can be served again and
 * proved consistent with a later one.
 *
 * Pacing: the worker notifies after each committed batch; the publisher signs at most
 * once per interval (default 1 s) and at once if the last checkpoint is older than
 * that. A periodic poll also catches leaves appended by other worker processes. Several
 * publishers are harmless: a checkpoint for a size is a function of the tree and the
 * key (Ed25519 signatures are deterministic), and the size is the primary key.
 */
import type { DataSource } from 'typeorm';
import { signCheckpoint } from '../core/checkpoint';
import { encodeBase64 } from '../core/encoding';
import { MerkleTree } from '../core/tree';
import { DbNodeStore, readSize } from '../store/db-node-store';
import { LedgerCheckpoint, LedgerVerifierKey } from '../store/entities';
import { exclusive } from '../store/database';
import { readLatestCheckpoint, type StoredCheckpoint } from '../store/read-model';
import type { LedgerNoteKey } from '../core/note-key';

export interface CheckpointLogger {
  error(obj: object, msg: string): void;
}

/**
 * Signs and stores a checkpoint of the current tree unless one of that size exists.
 * An empty ledger gets a size-0 checkpoint, so there is always one to serve.
 * Returns the new checkpoint, or null when there was nothing new.
 */
export function publishCheckpoint(db: DataSource, key: LedgerNoteKey, origin: string, now: () => Date = () => new Date()): Promise<StoredCheckpoint | null> {
  return exclusive(db, async () => {
    const size = await readSize(db.manager);
    const latest = await readLatestCheckpoint(db.manager);
    if (latest && latest.size >= size) return null;
    // The manager, not the DataSource: a DataSource store would wait for this very turn.
    const rootHash = await new MerkleTree(new DbNodeStore(db.manager)).rootHash(size);
    // Readers learn the verifier key from here, before any checkpoint it signs exists.
    const keys = db.manager.getRepository(LedgerVerifierKey);
    if (!(await keys.existsBy({ verifierKey: key.verifierKey }))) {
      await db.createQueryBuilder().insert().into(LedgerVerifierKey).values({ verifierKey: key.verifierKey, firstUsedAt: now() }).orIgnore().execute();
    }
    const row: StoredCheckpoint = {
      size,
      root: encodeBase64(rootHash),
      note: signCheckpoint({ origin, size, rootHash }, key.signer),
      publishedAt: now(),
    };
    await db.createQueryBuilder().insert().into(LedgerCheckpoint).values(row).orIgnore().execute();
    return row;
  });
}

/** The verifier key string verifiers pin (GET /ledger/key). */
export function verifierKey(key: LedgerNoteKey): string {
  return key.verifierKey;
}

export interface CheckpointPublisherOptions {
  origin: string;
  /** Least time between two checkpoints. */
  minIntervalMs?: number;
  /** How often to look for leaves appended elsewhere. */
  pollMs?: number;
  log?: CheckpointLogger;
  /** Called with each checkpoint published. */
  onPublished?: (checkpoint: StoredCheckpoint) => void;
}

export class CheckpointPublisher {
  private readonly minIntervalMs: number;
  private readonly pollMs: number;
  private lastFinished = 0;
  private inFlight = false;
  private pending = false;
  private timer: NodeJS.Timeout | null = null;
  private poller: NodeJS.Timeout | null = null;
  private publishing: Promise<unknown> = Promise.resolve();
  private stopped = true;

  constructor(
    private readonly db: DataSource,
    private readonly key: LedgerNoteKey,
    private readonly opts: CheckpointPublisherOptions,
  ) {
    this.minIntervalMs = opts.minIntervalMs ?? 1_000;
    this.pollMs = opts.pollMs ?? 5_000;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.notify();
    this.poller = setInterval(() => this.notify(), this.pollMs);
  }

  /**
   * There may be new leaves: publish now, or as soon as the interval allows. The
   * interval runs from the end of the previous publication, and only one runs at a time,
   * so two checkpoints are never closer than minIntervalMs however slow signing gets.
   */
  notify(): void {
    if (this.stopped) return;
    if (this.inFlight) {
      this.pending = true;
      return;
    }
    if (this.timer) return;
    const wait = Math.max(0, this.lastFinished + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.inFlight = true;
      this.pending = false;
      this.publishing = this.publishNow()
        .catch((err: unknown) => {
          this.opts.log?.error({ err }, 'could not publish a checkpoint');
          // Leaves are still unsigned: try again after the interval.
          this.pending = true;
        })
        .finally(() => {
          this.inFlight = false;
          this.lastFinished = Date.now();
          if (this.pending) this.notify();
        });
    }, wait);
  }

  async publishNow(): Promise<StoredCheckpoint | null> {
    const published = await publishCheckpoint(this.db, this.key, this.opts.origin);
    if (published) this.opts.onPublished?.(published);
    return published;
  }

  /** Stops, after signing whatever was appended since the last checkpoint. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.poller) clearInterval(this.poller);
    this.timer = this.poller = null;
    await this.publishing;
    try {
      await this.publishNow();
    } catch (err) {
      this.opts.log?.error({ err }, 'could not publish the final checkpoint');
    }
  }
}

/**
 * The verifier key of the newest signer, as the worker recorded it — what GET
 * /ledger/key serves. Null before the first checkpoint.
 */
export function currentVerifierKey(db: DataSource): Promise<string | null> {
  return exclusive(db, async () => {
    const row = await db.manager.getRepository(LedgerVerifierKey).findOne({ where: {}, order: { firstUsedAt: 'DESC', verifierKey: 'ASC' } });
    return row?.verifierKey ?? null;
  });
}
