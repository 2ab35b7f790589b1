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
 *
 * Keys: the publisher reads its keys again before every checkpoint (a NoteKeySource,
 * ledger/core/note-key.ts), so a rotation written to the key files is picked up without
 * a restart. When it holds the ledger's current key as its previous one and a new key,
 * its next checkpoint announces the rotation — signed by both, naming the new key
 * (ledger/core/key-rotation.ts) — and records both keys' sizes; from then on it signs
 * with the new key only. A publisher holding only a retired key signs nothing and says
 * why (the one not yet restarted in a rolling restart).
 */
import type { DataSource, EntityManager } from 'typeorm';
import { signCheckpoint } from '../core/checkpoint';
import { addSignatureLines } from '../core/cosignature';
import { encodeBase64 } from '../core/encoding';
import { nextKeyLine } from '../core/key-rotation';
import { MerkleTree } from '../core/tree';
import { DbNodeStore, readSize } from '../store/db-node-store';
import { LedgerCheckpoint, LedgerVerifierKey } from '../store/entities';
import { exclusive } from '../store/database';
import { activeKey, currentLedgerKey, readLedgerKeys } from '../store/ledger-keys';
import { readLatestCheckpoint, type StoredCheckpoint } from '../store/read-model';
import type { LedgerNoteKey, LedgerNoteKeys, NoteKeySource } from '../core/note-key';
import type { NoteSigner } from '../core/note';
import type { CosignResult, WitnessPool } from './witnesses';

export interface CheckpointLogger {
  error(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

/** This process's keys cannot sign the ledger's next checkpoint (it holds a retired or an unannounced key). */
export class NoteKeyMismatchError extends Error {
  override readonly name = 'NoteKeyMismatchError';
}

/** One key, a current/previous pair, or a source read again on every call. */
export type PublisherKeys = LedgerNoteKey | LedgerNoteKeys | NoteKeySource;

function keysNow(keys: PublisherKeys): LedgerNoteKeys {
  if (typeof keys === 'function') return keys();
  return 'current' in keys ? keys : { current: keys };
}

interface SigningPlan {
  readonly signers: readonly NoteSigner[];
  /** Set when this checkpoint announces a rotation. */
  readonly rotation?: { readonly from: string; readonly to: string };
  /** Set when no key was recorded yet: this one is the ledger's first. */
  readonly first?: string;
}

/**
 * Which keys sign the next checkpoint, given the recorded keys and those this process
 * holds: the ledger's current key alone; or, when this process holds the current key as
 * its *previous* one and a new key as its current one, both — the announcement.
 */
function signingPlan(recorded: readonly LedgerVerifierKey[], held: LedgerNoteKeys): SigningPlan {
  const active = activeKey(recorded);
  const { current, previous } = held;
  if (!active) return { signers: [current.signer], first: current.verifierKey };
  if (active.verifierKey === current.verifierKey) return { signers: [current.signer] };
  const known = recorded.find((r) => r.verifierKey === current.verifierKey);
  if (previous && active.verifierKey === previous.verifierKey && !known) {
    return { signers: [previous.signer, current.signer], rotation: { from: previous.verifierKey, to: current.verifierKey } };
  }
  const why = known
    ? `was retired at tree size ${known.retiredAtSize}`
    : previous
      ? `is not announced: its previous key ${previous.verifierKey} is not the ledger's current key either`
      : 'was never announced: give the ledger\'s current key as LEDGER_NOTE_KEY_PREVIOUS so the next checkpoint announces the new one';
  throw new NoteKeyMismatchError(`the note key ${current.verifierKey} cannot sign: it ${why}; the ledger's current key is ${active.verifierKey}`);
}

/**
 * Signs and stores a checkpoint of the current tree unless one of that size exists.
 * An empty ledger gets a size-0 checkpoint, so there is always one to serve.
 * Returns the new checkpoint, or null when there was nothing new (or another publisher
 * stored this size first).
 *
 * Key rotation: the checkpoint, the key rows it changes and its signing plan are one
 * transaction, so the keys recorded in `ledger_key` are exactly the ones that signed.
 *
 * Witnesses: with a pool, the checkpoint is signed first (a short read), the witnesses
 * are asked outside any transaction (never hold the database for the network), and the
 * note stored is the log's signature plus every cosignature that came back in time. The
 * store then re-checks what the draft assumed (no checkpoint of that size yet, the same
 * signing plan), so a rotation or another publisher in between is never overwritten.
 */
export async function publishCheckpoint(
  db: DataSource,
  keys: PublisherKeys,
  origin: string,
  now: () => Date = () => new Date(),
  witnesses?: WitnessPool,
  onCosigned?: (results: readonly CosignResult[]) => void,
): Promise<StoredCheckpoint | null> {
  // The keys are read outside the database turn: a key file read is not a reason to hold it.
  const held = keysNow(keys);
  if (!witnesses || witnesses.size === 0) {
    return exclusive(db, () =>
      db.transaction(async (tx) => {
        const draft = await draftCheckpoint(tx, held, origin);
        return draft ? storeCheckpoint(tx, held, draft, draft.note, now) : null;
      }),
    );
  }
  const draft = await exclusive(db, () => db.transaction((tx) => draftCheckpoint(tx, held, origin)));
  if (!draft) return null;
  // A DbNodeStore over the DataSource takes its own turns (never wrap it in exclusive: not re-entrant).
  const prove = (fromSize: number) => new MerkleTree(new DbNodeStore(db)).consistencyProof(fromSize, draft.size);
  const results = await witnesses.cosign(db, draft.note, draft.size, prove);
  onCosigned?.(results);
  const lines = results.flatMap((r) => (r.cosignature ? [r.cosignature.line] : []));
  const note = addSignatureLines(draft.note, lines);
  return exclusive(db, () => db.transaction((tx) => storeCheckpoint(tx, held, draft, note, now)));
}

interface DraftCheckpoint {
  readonly size: number;
  readonly root: string;
  /** Signed by the log's key(s) only. */
  readonly note: string;
  readonly plan: SigningPlan;
}

async function draftCheckpoint(tx: EntityManager, held: LedgerNoteKeys, origin: string): Promise<DraftCheckpoint | null> {
  const size = await readSize(tx);
  const latest = await readLatestCheckpoint(tx);
  if (latest && latest.size >= size) return null;
  const plan = signingPlan(await readLedgerKeys(tx, true), held);
  const rootHash = await new MerkleTree(new DbNodeStore(tx)).rootHash(size);
  const extensions = plan.rotation ? [nextKeyLine(plan.rotation.to)] : [];
  return { size, root: encodeBase64(rootHash), note: signCheckpoint({ origin, size, rootHash, extensions }, plan.signers), plan };
}

/** What identifies a plan: who signs, and which key rows it writes. */
function planKey(plan: SigningPlan): string {
  return JSON.stringify([plan.signers.map((s) => `${s.name}+${s.keyId}`), plan.rotation ?? null, plan.first ?? null]);
}

async function storeCheckpoint(tx: EntityManager, held: LedgerNoteKeys, draft: DraftCheckpoint, note: string, now: () => Date): Promise<StoredCheckpoint | null> {
  const { size, plan } = draft;
  const latest = await readLatestCheckpoint(tx);
  if (latest && latest.size >= size) return null;
  // Only reachable apart from the draft's transaction when witnesses were asked in between.
  if (planKey(signingPlan(await readLedgerKeys(tx, true), held)) !== planKey(plan)) return null;
  const at = now();
  const row: StoredCheckpoint = { size, root: draft.root, note, publishedAt: at };
  await tx.createQueryBuilder().insert().into(LedgerCheckpoint).values(row).orIgnore().execute();
  // Another worker's publisher may have stored this size first: then its plan, not ours, holds.
  const stored = await tx.findOne(LedgerCheckpoint, { where: { size } });
  if (stored?.note !== row.note) return null;
  const keyRow = (verifierKey: string, fromSize: number) => ({ verifierKey, firstUsedAt: at, fromSize, retiredAtSize: null });
  if (plan.first) await tx.createQueryBuilder().insert().into(LedgerVerifierKey).values(keyRow(plan.first, 0)).orIgnore().execute();
  if (plan.rotation) {
    await tx.update(LedgerVerifierKey, { verifierKey: plan.rotation.from }, { retiredAtSize: size });
    await tx.createQueryBuilder().insert().into(LedgerVerifierKey).values(keyRow(plan.rotation.to, size)).execute();
  }
  return row;
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
  /** Witnesses asked to cosign each checkpoint before it is stored (LEDGER_WITNESSES). */
  witnesses?: WitnessPool;
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
  /** The last key mismatch logged: a worker waiting for its rolling restart says so once, not every second. */
  private keyMismatch: string | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly keys: PublisherKeys,
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
          if (err instanceof NoteKeyMismatchError) {
            if (err.message !== this.keyMismatch) this.opts.log?.error({ err: err.message }, 'not signing checkpoints with this note key');
            this.keyMismatch = err.message;
          } else this.opts.log?.error({ err }, 'could not publish a checkpoint');
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
    const published = await publishCheckpoint(this.db, this.keys, this.opts.origin, undefined, this.opts.witnesses, (results) => {
      for (const r of results) {
        if (r.outcome !== 'cosigned') this.opts.log?.info?.({ witness: r.witness, outcome: r.outcome, detail: r.detail }, 'checkpoint published without this witness\'s cosignature');
      }
    });
    this.keyMismatch = null;
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
 * The verifier key that signs now, as the publisher recorded it — what GET /ledger/key
 * serves. Null before the first checkpoint.
 */
export function currentVerifierKey(db: DataSource): Promise<string | null> {
  return currentLedgerKey(db);
}
