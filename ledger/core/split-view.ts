/**
 * Evidence of a split view: two checkpoints of the same log and the same size with
 * different roots, both signed by the log. A Merkle root is a function of the leaves, so
 * one log cannot honestly sign two of them for one size; the pair is self-contained,
 * offline-checkable proof that the log showed two histories. With the witnesses'
 * cosignatures on each, it also shows who was shown which.
 *
 * Checkpoints of different sizes prove nothing on their own (a consistency proof
 * between them is needed, and one that fails to verify shows only a bad proof, not a
 * fork), so this returns undefined for them.
 */
import { openCheckpoint } from './checkpoint';
import { cosignaturesOnNote, type Cosignature, type CosignatureVerifier } from './cosignature';
import { encodeBase64 } from './encoding';
import type { NoteVerifier } from './note';

export interface SplitViewEvidence {
  readonly origin: string;
  readonly size: number;
  /** base64 roots of the two checkpoints. */
  readonly roots: readonly [string, string];
  /** Valid cosignatures on each checkpoint, by the cosigners the caller trusts. */
  readonly cosignatures: readonly [readonly Cosignature[], readonly Cosignature[]];
}

/**
 * Opens both notes with the log's verifier keys (so forged "evidence" is refused: this
 * throws like openCheckpoint) and returns the evidence if they fork, else undefined.
 */
export function detectSplitView(
  a: string,
  b: string,
  logVerifiers: readonly NoteVerifier[],
  cosigners: readonly CosignatureVerifier[] = [],
): SplitViewEvidence | undefined {
  const first = openCheckpoint(a, logVerifiers).checkpoint;
  const second = openCheckpoint(b, logVerifiers, { origin: first.origin }).checkpoint;
  if (first.size !== second.size || first.rootHash.equals(second.rootHash)) return undefined;
  return {
    origin: first.origin,
    size: first.size,
    roots: [encodeBase64(first.rootHash), encodeBase64(second.rootHash)],
    cosignatures: [cosignaturesOnNote(a, cosigners), cosignaturesOnNote(b, cosigners)],
  };
}
