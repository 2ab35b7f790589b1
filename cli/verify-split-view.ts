/**
 * `custodian verify --checkpoint FILE` (repeatable): checkpoints obtained elsewhere — as
 * the hub showed them to another auditor, or as a witness cosigned them — checked against
 * the log this run verifies. A log signs one tree per size and only ever grows, so:
 *
 *   - two checkpoints of the same size with different roots, both signed by the log's
 *     key, are a split view on their own (ledger/core/split-view.ts detectSplitView):
 *     among the files, and between each file and the hub's own checkpoint of that size;
 *   - a checkpoint of another size whose tree the hub's latest does not extend (RFC 9162
 *     consistency proof from the hub, which does not verify) is one too.
 *
 * Either is tampering (exit 1), reported as "split view" with both roots and who signed
 * and cosigned each (the witnesses given with --witness are checked; other cosignature
 * lines are named as unchecked). A file not signed by the log's key says nothing about
 * this log: it cannot be verified (exit 2), never "tampered".
 */
import fs from 'node:fs';
import { decodeBase64Strict, encodeBase64, hexKeyId, openCheckpoint, verifyConsistency, type Checkpoint, type NoteVerifier } from '../ledger/core';
import { cosignaturesOnNote, type CosignatureVerifier } from '../ledger/core/cosignature';
import { detectSplitView } from '../ledger/core/split-view';
import { CouldNotVerify, type LedgerClient } from './ledger-client';
import type { Findings } from './verify-tiles';

/** A signed checkpoint from elsewhere, and where it came from (a file name) for messages. */
export interface OtherCheckpoint {
  source: string;
  note: string;
}

/**
 * Reads a checkpoint file: the signed note itself (as GET /ledger/checkpoint serves it),
 * or the JSON `--from-checkpoint` saves ({"key", "note"}). CouldNotVerify if neither.
 */
export function readCheckpointFile(file: string): OtherCheckpoint {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CouldNotVerify(`--checkpoint ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (text.trimStart().startsWith('{')) {
    try {
      const saved = JSON.parse(text) as { note?: unknown };
      if (typeof saved.note === 'string') return { source: file, note: saved.note };
    } catch {
      // not JSON after all: taken as a note below, and refused there if it is not one
    }
  }
  if (!/\n\n\u2014 /u.test(text)) throw new CouldNotVerify(`--checkpoint ${file}: not a signed checkpoint note (nor the JSON --from-checkpoint saves)`);
  return { source: file, note: text };
}

/** One checkpoint in play: the hub's or a file's, opened with the log's keys. */
interface Known {
  label: string;
  note: string;
  checkpoint: Checkpoint;
  /** `name+keyid` of the log signatures that verified. */
  signedBy: string[];
}

export interface SplitViewInput {
  client: LedgerClient;
  /** The hub's latest checkpoint, verified. */
  latest: { note: string; checkpoint: Checkpoint };
  others: readonly OtherCheckpoint[];
  /** The log's keys: the trusted one and those it was rotated from/to. */
  logKeys: readonly NoteVerifier[];
  /** --witness keys: whose cosignatures are checked and named. */
  cosigners: readonly CosignatureVerifier[];
  /** The hub's stored checkpoint of exactly this size (GET /ledger/checkpoints), or null. */
  checkpointOfSize: (size: number) => Promise<string | null>;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

/**
 * Who vouches for a checkpoint: the log's signatures, and each given witness's
 * cosignature checked one by one (a forged line by a given witness is named as such);
 * lines by keys nobody gave are listed as unchecked.
 */
function vouchers(known: Known, cosigners: readonly CosignatureVerifier[], found: Findings): string {
  const valid: string[] = [];
  const checked = new Set<string>();
  for (const c of cosigners) {
    checked.add(`${c.name}+${hexKeyId(c.keyId)}`);
    try {
      for (const s of cosignaturesOnNote(known.note, [c])) valid.push(`${s.name} at ${iso(s.timestamp)}`);
    } catch (err) {
      const problem = `${known.label} carries a cosignature by witness ${c.name} that does not verify: ${(err as Error).message}`;
      if (!found.problems.includes(problem)) found.problems.push(problem); // a checkpoint may be described twice
    }
  }
  const unchecked = signersOf(known.note).filter((k) => !known.signedBy.includes(k) && !checked.has(k));
  return (
    `signed by ${known.signedBy.join(' and ')}; ` +
    (valid.length ? `cosigned by ${valid.join(', ')}` : cosigners.length ? 'cosigned by none of the given witnesses' : 'no --witness keys given to check cosignatures') +
    (unchecked.length ? `; also carries signatures by ${unchecked.join(', ')} (not checked)` : '')
  );
}

/** `name+keyid` of every signature line of a note (verified or not: to say who claims to have signed). */
export function signersOf(note: string): string[] {
  return [...note.matchAll(/^\u2014 (\S+) (\S+)$/gmu)].map(([, name, sig]) => {
    const raw = decodeBase64Strict(sig!);
    return raw && raw.length >= 4 ? `${name}+${hexKeyId(raw.readUInt32BE(0))}` : `${name}+?`;
  });
}

function open(label: string, note: string, logKeys: readonly NoteVerifier[], origin: string): Known {
  const opened = openCheckpoint(note, logKeys, { origin });
  return { label, note, checkpoint: opened.checkpoint, signedBy: opened.note.signatures.map((s) => `${s.name}+${hexKeyId(s.keyId)}`) };
}

const describeCheckpoint = (k: Known, cosigners: readonly CosignatureVerifier[], found: Findings) =>
  `root ${encodeBase64(k.checkpoint.rootHash)} in ${k.label} (${vouchers(k, cosigners, found)})`;

export async function checkOtherCheckpoints(input: SplitViewInput, found: Findings): Promise<void> {
  const { client, latest, logKeys, cosigners } = input;
  const origin = latest.checkpoint.origin;
  const hub = open(`the hub's latest checkpoint (size ${latest.checkpoint.size})`, latest.note, logKeys, origin);
  const others = input.others.map((o) => {
    try {
      return open(`the checkpoint in ${o.source}`, o.note, logKeys, origin);
    } catch (err) {
      throw new CouldNotVerify(
        `--checkpoint ${o.source} is not a checkpoint of ${origin} signed by the log's key (${logKeys.map((k) => `${k.name}+${hexKeyId(k.keyId)}`).join(', ')}), ` +
          `so it shows nothing about this log: ${(err as Error).message}`,
      );
    }
  });

  const reported = new Set<string>();
  const splitView = (a: Known, b: Known): boolean => {
    const evidence = detectSplitView(a.note, b.note, logKeys);
    if (!evidence) return false;
    const key = `${evidence.size}:${[...evidence.roots].sort().join(':')}`;
    if (reported.has(key)) return true;
    reported.add(key);
    found.problems.push(
      `split view: the log signed two different trees of size ${evidence.size}: ${describeCheckpoint(a, cosigners, found)}, and ${describeCheckpoint(b, cosigners, found)}. ` +
        `A tree of one size has one root: the hub showed two histories`,
    );
    return true;
  };

  // Same size, among the files (the hub need not even be asked).
  for (let i = 0; i < others.length; i++) for (let j = i + 1; j < others.length; j++) splitView(others[i]!, others[j]!);

  for (const other of others) {
    const s = other.checkpoint.size;
    const n = latest.checkpoint.size;
    if (s === n) {
      if (!splitView(other, hub)) found.notes.push(`${other.label} (size ${s}) is the hub's latest checkpoint`);
      continue;
    }
    // The hub's own signed checkpoint of that size, if it kept one: a second root for it is the plainest proof.
    const stored = await input.checkpointOfSize(s);
    if (stored) {
      let theirs: Known | undefined;
      try {
        theirs = open(`the hub's checkpoint of size ${s}`, stored, logKeys, origin);
      } catch {
        theirs = undefined; // signed by a key this run does not follow: the consistency proof below still decides
      }
      if (theirs && splitView(other, theirs)) continue;
    }
    if (s === 0) {
      found.notes.push(`${other.label} is of the empty tree`);
      continue;
    }
    const [older, newer] = s < n ? [other, hub] : [hub, other];
    let proof: { hashes: string[] };
    try {
      proof = await client.json<{ hashes: string[] }>(`/ledger/proof/consistency?from=${older.checkpoint.size}&to=${newer.checkpoint.size}`);
    } catch (err) {
      if (!(err instanceof CouldNotVerify) || s < n) throw err;
      throw new CouldNotVerify(`${other.label} (size ${s}) is ahead of the hub's latest checkpoint (size ${n}), and the hub gives no consistency proof to it: ${err.message}`);
    }
    try {
      verifyConsistency(older.checkpoint.size, newer.checkpoint.size, older.checkpoint.rootHash, newer.checkpoint.rootHash, proof.hashes.map((h) => decodeBase64Strict(h) ?? Buffer.alloc(0)));
      found.notes.push(`${other.label} (size ${s}) is consistent with the hub's log (size ${n})`);
    } catch (err) {
      found.problems.push(
        `split view: the log signed a tree of size ${older.checkpoint.size} that its tree of size ${newer.checkpoint.size} does not extend: ` +
          `${describeCheckpoint(older, cosigners, found)}, and ${describeCheckpoint(newer, cosigners, found)}; ` +
          `the hub's consistency proof between them, [${proof.hashes.join(', ')}], does not verify (${(err as Error).message})`,
      );
    }
  }
}
