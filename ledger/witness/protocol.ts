/**
 * The wire format of C2SP tlog-witness `POST <prefix>/add-checkpoint`, both ways, as pure
 * functions: the witness parses requests with them and the hub's publisher builds them.
 *
 *   request  = "old " <decimal size> "\n" *(<base64 hash> "\n") "\n" <signed checkpoint note>
 *   200      = 1*(<cosignature line> "\n")                 (text/plain; charset=utf-8)
 *   409      = <decimal size of the latest cosigned checkpoint> "\n"  (text/x.tlog.size)
 */
import { decodeBase64Strict, encodeBase64 } from '../core/encoding';
import { HASH_SIZE } from '../core/hashing';

export const ADD_CHECKPOINT_PATH = '/add-checkpoint';
export const TLOG_SIZE_CONTENT_TYPE = 'text/x.tlog.size';
/** The spec: a client MUST NOT send more than 63 proof lines (a proof of trees below 2^63). */
export const MAX_PROOF_LINES = 63;
/** A checkpoint note with a few dozen signatures and a full proof is a few KiB; anything much larger is not one. */
export const MAX_REQUEST_BYTES = 64 * 1024;

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

export interface AddCheckpointRequest {
  readonly oldSize: number;
  readonly proof: readonly Buffer[];
  /** The signed checkpoint note, as sent. */
  readonly note: string;
}

/** The request body is not what the spec describes: answer 400. */
export class WitnessRequestError extends Error {
  override readonly name = 'WitnessRequestError';
}

export function parseAddCheckpointRequest(body: string): AddCheckpointRequest {
  const blank = body.indexOf('\n\n');
  if (blank < 0) throw new WitnessRequestError('no blank line between the old size and proof lines and the checkpoint');
  const head = body.slice(0, blank).split('\n');
  const note = body.slice(blank + 2);
  const [oldLine, ...proofLines] = head;
  if (!oldLine.startsWith('old ') || !DECIMAL.test(oldLine.slice(4))) throw new WitnessRequestError('the first line must be "old <decimal size>"');
  const oldSize = Number(oldLine.slice(4));
  if (!Number.isSafeInteger(oldSize)) throw new WitnessRequestError('old size is too large');
  if (proofLines.length > MAX_PROOF_LINES) throw new WitnessRequestError(`more than ${MAX_PROOF_LINES} consistency proof lines`);
  const proof = proofLines.map((line, i) => {
    const hash = decodeBase64Strict(line);
    if (!hash || hash.length !== HASH_SIZE) throw new WitnessRequestError(`proof line ${i + 1} is not the base64 of a ${HASH_SIZE}-byte hash`);
    return hash;
  });
  if (oldSize === 0 && proof.length > 0) throw new WitnessRequestError('the proof must be empty when the old size is 0');
  if (note.length === 0) throw new WitnessRequestError('no checkpoint after the blank line');
  return { oldSize, proof, note };
}

export function formatAddCheckpointRequest(oldSize: number, proof: readonly Uint8Array[], note: string): string {
  return `old ${oldSize}\n${proof.map((hash) => `${encodeBase64(hash)}\n`).join('')}\n${note}`;
}

/** The size in a 409 answer, or undefined if the body is not one. */
export function parseTlogSize(body: string): number | undefined {
  const text = body.endsWith('\n') ? body.slice(0, -1) : body;
  if (!DECIMAL.test(text)) return undefined;
  const size = Number(text);
  return Number.isSafeInteger(size) ? size : undefined;
}
