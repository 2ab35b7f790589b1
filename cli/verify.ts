/**
 * `custodian verify --url <gateway> [--token T] [--key VKEY] [--from-checkpoint FILE]`
 *
 * Checks the published ledger without trusting the server: the checkpoint's signature
 * (against a pinned key, or the key saved with the last checkpoint, or — first time
 * only — the key the server serves), every entry's leaf hash against its data, the root
 * recomputed from all leaves against the signed root, and consistency with the
 * checkpoint saved by the previous run. Any mismatch is reported precisely and exits 1.
 * Uses only the public HTTP contract and the RFC 6962 core, as any outside party would.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import {
  InMemoryNodeStore,
  MerkleTree,
  decodeBase64Strict,
  leafHash,
  openCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  type Checkpoint,
} from '../ledger/core';

export const VERIFY_USAGE = `  verify --url <gateway> [--token T] [--key VKEY] [--from-checkpoint FILE]
                                 independently verify the published ledger`;

interface Saved {
  key: string;
  note: string;
}

export interface VerifyReport {
  ok: boolean;
  size: number;
  problems: string[];
  notes: string[];
}

async function get(base: string, path: string, token?: string): Promise<Response> {
  const res = await fetch(new URL(path, base), { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text().catch(() => '')}`.trim());
  return res;
}

export async function verifyLedger(opts: { url: string; token?: string; key?: string; fromCheckpoint?: string }): Promise<VerifyReport> {
  const problems: string[] = [];
  const notes: string[] = [];
  const saved: Saved | null = opts.fromCheckpoint && fs.existsSync(opts.fromCheckpoint) ? JSON.parse(fs.readFileSync(opts.fromCheckpoint, 'utf8')) : null;
  const servedKey = (await (await get(opts.url, '/ledger/key')).text()).trim();
  const trusted = opts.key ?? saved?.key ?? servedKey;
  if (!opts.key && !saved) notes.push('no pinned key and no saved checkpoint: trusting the served key on first use');
  if (servedKey !== trusted) problems.push(`the server's key changed: it serves ${servedKey}, we trust ${trusted}`);
  const verifier = parseVerifierKey(trusted);

  const note = await (await get(opts.url, '/ledger/checkpoint')).text();
  let checkpoint: Checkpoint;
  try {
    checkpoint = openCheckpoint(note, [verifier]).checkpoint;
  } catch (err) {
    return { ok: false, size: 0, problems: [...problems, `checkpoint signature does not verify: ${(err as Error).message}`], notes };
  }
  notes.push(`checkpoint ${checkpoint.origin} size ${checkpoint.size} root ${checkpoint.rootHash.toString('base64')}`);

  // Every entry: its hash must be the RFC 6962 leaf hash of its exact bytes.
  const hashes: Buffer[] = [];
  for (let i = 0; i < checkpoint.size; i++) {
    let entry: { index: number; leafHash: string; leafData: string };
    try {
      entry = (await (await get(opts.url, `/ledger/entries/${i}`, opts.token)).json()) as typeof entry;
    } catch (err) {
      problems.push(`entry ${i}: missing (${(err as Error).message})`);
      hashes.push(Buffer.alloc(32));
      continue;
    }
    const data = decodeBase64Strict(entry.leafData);
    const claimed = decodeBase64Strict(entry.leafHash);
    if (entry.index !== i) problems.push(`entry ${i}: the server returned entry ${entry.index} instead`);
    if (!data || !claimed) {
      problems.push(`entry ${i}: malformed base64`);
      hashes.push(Buffer.alloc(32));
      continue;
    }
    const actual = leafHash(data);
    if (!actual.equals(claimed)) problems.push(`entry ${i}: its data does not hash to its leaf hash (the entry was edited)`);
    hashes.push(actual);
  }
  if (checkpoint.size > 0) {
    const tree = new MerkleTree(new InMemoryNodeStore());
    await tree.append(hashes);
    const root = await tree.rootHash();
    if (!root.equals(checkpoint.rootHash)) {
      problems.push(`the root recomputed from the ${checkpoint.size} entries differs from the signed root (entries edited, removed or reordered)`);
    } else {
      notes.push(`root recomputed from all ${checkpoint.size} entries matches the signed checkpoint`);
    }
  }

  // Consistency with what we saw last time: the log only ever grew.
  if (saved) {
    let previous: Checkpoint | null = null;
    try {
      previous = openCheckpoint(saved.note, [parseVerifierKey(saved.key)]).checkpoint;
    } catch (err) {
      problems.push(`the saved checkpoint does not verify: ${(err as Error).message}`);
    }
    if (previous) {
      if (previous.size > checkpoint.size) problems.push(`the log shrank: ${previous.size} entries before, ${checkpoint.size} now`);
      else if (previous.size === checkpoint.size) {
        if (!previous.rootHash.equals(checkpoint.rootHash)) problems.push(`same size ${checkpoint.size} but a different root: history was rewritten`);
        else notes.push(`unchanged since the saved checkpoint (size ${checkpoint.size})`);
      } else if (previous.size > 0) {
        const proof = (await (await get(opts.url, `/ledger/proof/consistency?from=${previous.size}&to=${checkpoint.size}`)).json()) as { hashes: string[] };
        try {
          verifyConsistency(previous.size, checkpoint.size, previous.rootHash, checkpoint.rootHash, proof.hashes.map((h) => decodeBase64Strict(h) ?? Buffer.alloc(0)));
          notes.push(`consistent with the saved checkpoint of size ${previous.size}`);
        } catch (err) {
          problems.push(`not consistent with the saved checkpoint of size ${previous.size}: ${(err as Error).message}`);
        }
      }
    }
  }
  if (opts.fromCheckpoint && problems.length === 0) {
    fs.writeFileSync(opts.fromCheckpoint, JSON.stringify({ key: trusted, note } satisfies Saved, null, 2) + '\n');
    notes.push(`saved this checkpoint to ${opts.fromCheckpoint}`);
  }
  return { ok: problems.length === 0, size: checkpoint.size, problems, notes };
}

export async function verifyCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { url: { type: 'string' }, token: { type: 'string' }, key: { type: 'string' }, 'from-checkpoint': { type: 'string' } },
    strict: true,
  });
  if (!values.url) throw new Error('verify needs --url <gateway>');
  const report = await verifyLedger({ url: values.url, token: values.token ?? process.env.CUSTODIAN_TOKEN, key: values.key, fromCheckpoint: values['from-checkpoint'] });
  for (const n of report.notes) console.log(`ok: ${n}`);
  for (const p of report.problems) console.log(`TAMPERED: ${p}`);
  console.log(report.ok ? `verified: ${report.size} entries` : `verification FAILED: ${report.problems.length} problem(s)`);
  if (!report.ok) process.exitCode = 1;
}
