/**
 * The hub's side of C2SP tlog-witness: after signing a checkpoint the publisher asks
 * every witness of LEDGER_WITNESSES for a cosignature, all at once, each within one
 * deadline (LEDGER_WITNESS_TIMEOUT_MS). A witness that is down, slow or refusing costs
 * the checkpoint its cosignature, never more time than the deadline; it is asked again
 * with the next checkpoint, from the size it last cosigned.
 *
 * Per witness: old size = the size it last cosigned (ledger_witness, 0 at first) and a
 * consistency proof from it. On 409 the witness's own size is believed and the request
 * made once more with a proof from that size (the row was behind: a second worker's
 * publisher, a restored database, a witness fed by someone else). A returned
 * cosignature is verified with the witness's key over exactly the checkpoint sent
 * before it is kept; a witness that answers with anything else is "invalid".
 */
import type { DataSource } from 'typeorm';
import { CosignatureError, splitNote, verifyCosignature, type Cosignature, type CosignatureVerifier } from '../core/cosignature';
import { ADD_CHECKPOINT_PATH, formatAddCheckpointRequest, parseTlogSize, TLOG_SIZE_CONTENT_TYPE } from '../witness/protocol';
import type { WitnessEndpoint } from '../witness/endpoints';
import { LedgerWitness } from '../store/entities';
import { exclusive } from '../store/database';
import { metrics } from '../../common/metrics';

export type CosignOutcome = 'cosigned' | 'conflict' | 'refused' | 'invalid' | 'timeout' | 'unreachable' | 'ahead';

export interface CosignResult {
  readonly witness: string;
  readonly outcome: CosignOutcome;
  readonly cosignature?: Cosignature;
  /** Why, when not cosigned (for the log). */
  readonly detail?: string;
}

/** Builds the consistency proof from `fromSize` to the checkpoint's size. */
export type ProveFrom = (fromSize: number) => Promise<readonly Uint8Array[]>;

export class WitnessPool {
  constructor(
    private readonly witnesses: readonly WitnessEndpoint[],
    private readonly timeoutMs: number,
  ) {}

  get size(): number {
    return this.witnesses.length;
  }

  /**
   * Asks every witness to cosign `note` (the log-signed checkpoint of `size`) and
   * returns each one's result; resolves within the timeout (plus the proofs' own time).
   * Sizes the witnesses now hold are recorded in `db`.
   */
  async cosign(db: DataSource, note: string, size: number, prove: ProveFrom): Promise<CosignResult[]> {
    const known = await lastCosignedSizes(db);
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const results = await Promise.all(this.witnesses.map((w) => this.ask(w, known.get(w.verifier.verifierKey) ?? 0, note, size, prove, deadline)));
    const cosigned = results.flatMap((r, i) => (r.outcome === 'cosigned' ? [this.witnesses[i].verifier.verifierKey] : []));
    if (cosigned.length > 0) await recordCosignedSize(db, cosigned, size);
    for (const r of results) metrics.cosignature(r.witness, r.outcome);
    return results;
  }

  private async ask(w: WitnessEndpoint, lastSize: number, note: string, size: number, prove: ProveFrom, deadline: AbortSignal): Promise<CosignResult> {
    const witness = w.verifier.name;
    const body = splitNote(note).body;
    try {
      let oldSize = lastSize;
      for (let attempt = 0; ; attempt++) {
        if (oldSize > size) return { witness, outcome: 'ahead', detail: `the witness holds size ${oldSize}, beyond ${size}` };
        const proof = oldSize === 0 || oldSize === size ? [] : await prove(oldSize);
        const res = await fetch(`${w.baseUrl}${ADD_CHECKPOINT_PATH}`, {
          method: 'POST',
          body: formatAddCheckpointRequest(oldSize, proof, note),
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          signal: deadline,
        });
        const text = await res.text();
        if (res.status === 200) return { witness, outcome: 'cosigned', cosignature: pickCosignature(w.verifier, body, text) };
        if (res.status === 409 && attempt === 0 && (res.headers.get('content-type') ?? '').startsWith(TLOG_SIZE_CONTENT_TYPE)) {
          const theirs = parseTlogSize(text);
          if (theirs !== undefined && theirs !== oldSize) {
            oldSize = theirs;
            continue;
          }
        }
        return { witness, outcome: res.status === 409 ? 'conflict' : 'refused', detail: `HTTP ${res.status}: ${text.slice(0, 200)}` };
      }
    } catch (err) {
      if (err instanceof CosignatureError) return { witness, outcome: 'invalid', detail: err.message };
      if (deadline.aborted) return { witness, outcome: 'timeout', detail: `no answer within ${this.timeoutMs} ms` };
      return { witness, outcome: 'unreachable', detail: err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err) };
    }
  }
}

/** The one line of the answer that is this witness's valid cosignature of `body`; other lines (other keys of a multi-key witness) are ignored. */
function pickCosignature(verifier: CosignatureVerifier, body: string, answer: string): Cosignature {
  const lines = answer.split('\n').filter((line) => line.length > 0);
  let lastError: CosignatureError | undefined;
  for (const line of lines) {
    try {
      return verifyCosignature(verifier, body, line, { notAfter: Math.floor(Date.now() / 1000) + 300 });
    } catch (err) {
      if (!(err instanceof CosignatureError)) throw err;
      lastError = err;
    }
  }
  throw lastError ?? new CosignatureError('malformed-cosignature', 'the witness answered 200 without a cosignature');
}

async function lastCosignedSizes(db: DataSource): Promise<Map<string, number>> {
  const rows = await exclusive(db, () => db.getRepository(LedgerWitness).find());
  return new Map(rows.map((r) => [r.witnessKey, Number(r.size)]));
}

/** Records that these witnesses hold `size` now (upsert; a size only moves as the witness's does). */
async function recordCosignedSize(db: DataSource, witnessKeys: readonly string[], size: number): Promise<void> {
  const at = new Date();
  await exclusive(db, () =>
    db
      .createQueryBuilder()
      .insert()
      .into(LedgerWitness)
      .values(witnessKeys.map((witnessKey) => ({ witnessKey, size, cosignedAt: at })))
      .orUpdate(['size', 'cosigned_at'], ['witness_key'])
      .execute(),
  );
}
