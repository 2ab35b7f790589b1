/**
 * Note key rotation, as checkpoints say it (ledger/FORMAT.md, "Key rotation").
 *
 * A rotation from key A to key B (same name — the origin — so a different key id) is
 * announced by ONE checkpoint whose text carries the extension line
 *
 *   next-key <B's verifier key>
 *
 * and which is signed by A and by B. A's signature covers the line, so A vouches for B
 * (signature lines themselves are not signed: anyone can append one, which is why naming
 * B inside the text matters); B's signature proves B's holder took part. From the next
 * checkpoint on, only B signs.
 *
 * A verifier that trusts A follows to B only through such a checkpoint; a checkpoint
 * signed by a key no announcement introduced is a problem, whatever a server says.
 */
import { openCheckpoint, type Checkpoint } from './checkpoint';
import { NoteError, parseVerifierKey } from './note';

export const NEXT_KEY_EXTENSION = 'next-key ';

/** The extension line that announces `verifierKey`. */
export function nextKeyLine(verifierKey: string): string {
  return `${NEXT_KEY_EXTENSION}${verifierKey}`;
}

/** The verifier keys a checkpoint announces (normally none, at most one). */
export function announcedKeys(checkpoint: Checkpoint): string[] {
  return checkpoint.extensions.filter((l) => l.startsWith(NEXT_KEY_EXTENSION)).map((l) => l.slice(NEXT_KEY_EXTENSION.length));
}

/**
 * Checks that `note` announces the rotation from `trusted` to `next`: signed by both,
 * its text naming `next`, for `origin` when given. Returns the checkpoint; throws
 * NoteError or CheckpointError saying what is missing.
 */
export function openAnnouncement(note: string | Uint8Array, trusted: string, next: string, options: { origin?: string } = {}): Checkpoint {
  const trustedVerifier = parseVerifierKey(trusted);
  const nextVerifier = parseVerifierKey(next);
  const { checkpoint, note: opened } = openCheckpoint(note, [trustedVerifier, nextVerifier], options);
  const signedBy = (v: { name: string; keyId: number }) => opened.signatures.some((s) => s.name === v.name && s.keyId === v.keyId);
  if (!signedBy(trustedVerifier)) throw new NoteError('unverified-note', `the announcing checkpoint of size ${checkpoint.size} is not signed by the trusted key ${trusted}`);
  if (!signedBy(nextVerifier)) throw new NoteError('unverified-note', `the announcing checkpoint of size ${checkpoint.size} is not signed by the new key ${next}`);
  if (!announcedKeys(checkpoint).includes(next)) throw new NoteError('unverified-note', `the checkpoint of size ${checkpoint.size} does not name ${next} in a "${NEXT_KEY_EXTENSION.trim()}" line`);
  return checkpoint;
}
