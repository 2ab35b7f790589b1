/**
 * The witness's decision on one add-checkpoint request (C2SP tlog-witness), apart from
 * HTTP: verify the log's signature, compare the old size with what it last cosigned,
 * check the consistency proof from that checkpoint, persist, cosign. The order of checks
 * and the status of each refusal follow the spec:
 *
 *   unknown origin → 404 · no signature by a trusted key → 403 · old size > size → 400
 *   old size ≠ stored size → 409 (with the stored size) · same size, other root → 409
 *   proof does not verify → 422 · otherwise persist, then 200 with the cosignature.
 *
 * Checking the stored size and writing the new state happen under one lock per origin,
 * so two concurrent requests cannot roll the state back (the race the spec describes).
 */
import { CheckpointError, openCheckpoint, type Checkpoint } from '../core/checkpoint';
import { splitNote, type CosignatureSigner } from '../core/cosignature';
import { encodeBase64 } from '../core/encoding';
import { NoteError, parseVerifierKey, type NoteVerifier } from '../core/note';
import { ProofError, verifyConsistency } from '../core/verify';
import type { AddCheckpointRequest } from './protocol';
import type { LogState, WitnessStateStore } from './state';

export type WitnessAnswer =
  | { readonly status: 200; readonly lines: readonly string[]; readonly timestamp: number; readonly size: number }
  | { readonly status: 409; readonly size: number; readonly reason: string }
  | { readonly status: 400 | 403 | 404 | 422; readonly reason: string };

export interface WitnessOptions {
  readonly signer: CosignatureSigner;
  /** Log verifier keys (`<origin>+<id>+<key>`); several for one origin are allowed (a key rotation). */
  readonly logKeys: readonly string[];
  readonly store: WitnessStateStore;
  /** POSIX seconds; injectable for tests. */
  readonly now?: () => number;
}

export class Witness {
  private readonly logs = new Map<string, NoteVerifier[]>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly now: () => number;

  constructor(private readonly opts: WitnessOptions) {
    for (const key of opts.logKeys) {
      const verifier = parseVerifierKey(key); // the key name is the log's origin
      this.logs.set(verifier.name, [...(this.logs.get(verifier.name) ?? []), verifier]);
    }
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  }

  get origins(): string[] {
    return [...this.logs.keys()];
  }

  get signer(): CosignatureSigner {
    return this.opts.signer;
  }

  /** What this witness last cosigned for `origin`. */
  state(origin: string): LogState | undefined {
    return this.opts.store.read(origin);
  }

  async addCheckpoint(request: AddCheckpointRequest): Promise<WitnessAnswer> {
    const origin = originOf(request.note);
    if (origin === undefined) return { status: 400, reason: 'the checkpoint is not a signed note with an origin line' };
    const verifiers = this.logs.get(origin);
    if (!verifiers) return { status: 404, reason: `unknown log ${JSON.stringify(origin)}` };
    let checkpoint: Checkpoint;
    try {
      checkpoint = openCheckpoint(request.note, verifiers, { origin }).checkpoint;
    } catch (err) {
      if (err instanceof NoteError && (err.code === 'unverified-note' || err.code === 'invalid-signature')) {
        return { status: 403, reason: `no valid signature by a trusted key of ${origin}` };
      }
      if (err instanceof NoteError || err instanceof CheckpointError) return { status: 400, reason: err.message };
      throw err;
    }
    if (request.oldSize > checkpoint.size) return { status: 400, reason: `old size ${request.oldSize} exceeds the checkpoint's size ${checkpoint.size}` };
    return this.serialized(origin, () => this.decide(origin, request, checkpoint));
  }

  private decide(origin: string, request: AddCheckpointRequest, checkpoint: Checkpoint): WitnessAnswer {
    const stored = this.opts.store.read(origin);
    const storedSize = stored?.size ?? 0;
    if (request.oldSize !== storedSize) {
      return { status: 409, size: storedSize, reason: `old size ${request.oldSize} is not the last cosigned size ${storedSize}` };
    }
    const root = encodeBase64(checkpoint.rootHash);
    if (stored && checkpoint.size === stored.size) {
      // Same size: the only consistent checkpoint is the same tree. Another root is a fork.
      if (root !== stored.root) return { status: 409, size: storedSize, reason: `a different root for size ${storedSize}: a fork` };
      if (request.proof.length > 0) return { status: 422, reason: 'the proof must be empty between equal sizes' };
    } else if (stored && stored.size > 0) {
      try {
        verifyConsistency(stored.size, checkpoint.size, Buffer.from(stored.root, 'base64'), checkpoint.rootHash, request.proof);
      } catch (err) {
        if (err instanceof ProofError) return { status: 422, reason: `consistency proof from ${stored.size} to ${checkpoint.size}: ${err.message}` };
        throw err;
      }
    } else if (request.proof.length > 0) {
      return { status: 422, reason: 'the proof must be empty from size 0' };
    }
    const timestamp = this.now();
    const { body } = splitNote(request.note);
    const cosignature = this.opts.signer.cosign(body, timestamp);
    // Persist before answering: a cosignature the witness could forget would let it be rolled back.
    this.opts.store.write({ origin, size: checkpoint.size, root, note: request.note, cosignedAt: new Date(timestamp * 1000).toISOString() });
    return { status: 200, lines: [cosignature.line], timestamp, size: checkpoint.size };
  }

  /** Runs `task` after every earlier task for this origin has finished. */
  private serialized<T>(origin: string, task: () => T): Promise<T> {
    const previous = this.locks.get(origin) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    this.locks.set(origin, settled);
    void settled.then(() => {
      if (this.locks.get(origin) === settled) this.locks.delete(origin);
    });
    return next;
  }
}

/** The first line of a note, if it has one before a newline. */
function originOf(note: string): string | undefined {
  const end = note.indexOf('\n');
  return end > 0 ? note.slice(0, end) : undefined;
}
