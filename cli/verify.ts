/**
 * `custodian verify --url <gateway> [--token T] [--key VKEY] [--from-checkpoint FILE]`
 *
 * Checks the published ledger without trusting the server: the checkpoint's signature
 * (against a pinned key, or the key saved with the last checkpoint, or — first time
 * only — the key the server serves), every entry's leaf hash against its data, the root
 * recomputed from all leaves against the signed root, and consistency with the
 * checkpoint saved by the previous run; every entry's data is read with the ledger's one
 * leaf parser (ledger/core/leaf.ts readLeaf, both formats) and must say what the server
 * shows as its event. Any mismatch is reported precisely and exits 1; leaves of a format
 * newer than this verifier are hashed but not read, and exit 2. Uses only the public
 * HTTP contract and the ledger's pure core, as any outside party would.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import canonicalize from 'canonicalize';
import {
  InMemoryNodeStore,
  LeafFormatError,
  MerkleTree,
  decodeBase64Strict,
  leafHash,
  openCheckpoint,
  parseVerifierKey,
  readLeaf,
  verifyConsistency,
  type Checkpoint,
  type LeafFormat,
  type NoteVerifier,
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
  /** Evidence of tampering. */
  problems: string[];
  /** What could not be checked (leaves of a format newer than this verifier). */
  unverified: string[];
  notes: string[];
}

interface VerifyOptions {
  url: string;
  token?: string;
  key?: string;
  fromCheckpoint?: string;
}

/** The entry shape of GET /ledger/entries/I. */
interface ServedEntry {
  index: number;
  leafHash: string;
  leafData: string;
  event: unknown;
}

type Findings = Pick<VerifyReport, 'problems' | 'unverified' | 'notes'>;

async function get(base: string, path: string, token?: string): Promise<Response> {
  const res = await fetch(new URL(path, base), { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text().catch(() => '')}`.trim());
  return res;
}

/** The key to trust: pinned, else saved with the last checkpoint, else — first time only — the served one. */
async function trustedKey(opts: VerifyOptions, saved: Saved | null, found: Findings): Promise<{ text: string; verifier: NoteVerifier }> {
  const servedKey = (await (await get(opts.url, '/ledger/key')).text()).trim();
  const text = opts.key ?? saved?.key ?? servedKey;
  if (!opts.key && !saved) found.notes.push('no pinned key and no saved checkpoint: trusting the served key on first use');
  if (servedKey !== text) found.problems.push(`the server's key changed: it serves ${servedKey}, we trust ${text}`);
  return { text, verifier: parseVerifierKey(text) };
}

/**
 * Entry i's RFC 6962 leaf hash, recomputed from its exact bytes, after checking the
 * claimed hash and reading the bytes as a leaf. Returns the format read, if any.
 */
function checkEntry(i: number, entry: ServedEntry, found: Findings): { hash: Buffer; format?: LeafFormat } {
  const data = decodeBase64Strict(entry.leafData);
  const claimed = decodeBase64Strict(entry.leafHash);
  if (entry.index !== i) found.problems.push(`entry ${i}: the server returned entry ${entry.index} instead`);
  if (!data || !claimed) {
    found.problems.push(`entry ${i}: malformed base64`);
    return { hash: Buffer.alloc(32) };
  }
  const hash = leafHash(data);
  if (!hash.equals(claimed)) found.problems.push(`entry ${i}: its data does not hash to its leaf hash (the entry was edited)`);
  try {
    const leaf = readLeaf(data);
    // Compared as canonical JSON: the same content, whatever the key order of the response.
    if (canonicalize(entry.event) !== canonicalize(leaf.event)) found.problems.push(`entry ${i}: the event the server shows is not what its leaf data says`);
    return { hash, format: leaf.format };
  } catch (err) {
    if (!(err instanceof LeafFormatError)) throw err;
    if (err.code === 'unknown-format') found.unverified.push(`entry ${i}: ${err.message}; its hash is checked, its content is not read`);
    else found.problems.push(`entry ${i}: its data is not a ledger leaf (${err.message})`);
    return { hash };
  }
}

/** Every entry of the checkpoint's tree, checked; their leaf hashes in order (zeros for missing ones). */
async function checkEntries(opts: VerifyOptions, size: number, found: Findings): Promise<Buffer[]> {
  const hashes: Buffer[] = [];
  const formats = new Map<LeafFormat, number>();
  for (let i = 0; i < size; i++) {
    let entry: ServedEntry;
    try {
      entry = (await (await get(opts.url, `/ledger/entries/${i}`, opts.token)).json()) as ServedEntry;
    } catch (err) {
      found.problems.push(`entry ${i}: missing (${(err as Error).message})`);
      hashes.push(Buffer.alloc(32));
      continue;
    }
    const { hash, format } = checkEntry(i, entry, found);
    hashes.push(hash);
    if (format !== undefined) formats.set(format, (formats.get(format) ?? 0) + 1);
  }
  if (formats.size > 0) found.notes.push(`leaves read: ${[...formats].sort(([a], [b]) => a - b).map(([f, n]) => `${n} of format ${f}`).join(', ')}`);
  return hashes;
}

async function checkRoot(hashes: Buffer[], checkpoint: Checkpoint, found: Findings): Promise<void> {
  if (checkpoint.size === 0) return;
  const tree = new MerkleTree(new InMemoryNodeStore());
  await tree.append(hashes);
  if (!(await tree.rootHash()).equals(checkpoint.rootHash)) {
    found.problems.push(`the root recomputed from the ${checkpoint.size} entries differs from the signed root (entries edited, removed or reordered)`);
  } else {
    found.notes.push(`root recomputed from all ${checkpoint.size} entries matches the signed checkpoint`);
  }
}

/** Consistency with what we saw last time: the log only ever grew. */
async function checkGrowth(opts: VerifyOptions, saved: Saved, checkpoint: Checkpoint, found: Findings): Promise<void> {
  let previous: Checkpoint;
  try {
    previous = openCheckpoint(saved.note, [parseVerifierKey(saved.key)]).checkpoint;
  } catch (err) {
    found.problems.push(`the saved checkpoint does not verify: ${(err as Error).message}`);
    return;
  }
  if (previous.size > checkpoint.size) found.problems.push(`the log shrank: ${previous.size} entries before, ${checkpoint.size} now`);
  else if (previous.size === checkpoint.size) {
    if (!previous.rootHash.equals(checkpoint.rootHash)) found.problems.push(`same size ${checkpoint.size} but a different root: history was rewritten`);
    else found.notes.push(`unchanged since the saved checkpoint (size ${checkpoint.size})`);
  } else if (previous.size > 0) {
    const proof = (await (await get(opts.url, `/ledger/proof/consistency?from=${previous.size}&to=${checkpoint.size}`)).json()) as { hashes: string[] };
    try {
      verifyConsistency(previous.size, checkpoint.size, previous.rootHash, checkpoint.rootHash, proof.hashes.map((h) => decodeBase64Strict(h) ?? Buffer.alloc(0)));
      found.notes.push(`consistent with the saved checkpoint of size ${previous.size}`);
    } catch (err) {
      found.problems.push(`not consistent with the saved checkpoint of size ${previous.size}: ${(err as Error).message}`);
    }
  }
}

export async function verifyLedger(opts: VerifyOptions): Promise<VerifyReport> {
  const found: Findings = { problems: [], unverified: [], notes: [] };
  const saved: Saved | null = opts.fromCheckpoint && fs.existsSync(opts.fromCheckpoint) ? JSON.parse(fs.readFileSync(opts.fromCheckpoint, 'utf8')) : null;
  const trusted = await trustedKey(opts, saved, found);

  const note = await (await get(opts.url, '/ledger/checkpoint')).text();
  let checkpoint: Checkpoint;
  try {
    checkpoint = openCheckpoint(note, [trusted.verifier]).checkpoint;
  } catch (err) {
    found.problems.push(`checkpoint signature does not verify: ${(err as Error).message}`);
    return { ok: false, size: 0, ...found };
  }
  found.notes.push(`checkpoint ${checkpoint.origin} size ${checkpoint.size} root ${checkpoint.rootHash.toString('base64')}`);

  await checkRoot(await checkEntries(opts, checkpoint.size, found), checkpoint, found);
  if (saved) await checkGrowth(opts, saved, checkpoint, found);

  const ok = found.problems.length === 0 && found.unverified.length === 0;
  if (opts.fromCheckpoint && ok) {
    fs.writeFileSync(opts.fromCheckpoint, JSON.stringify({ key: trusted.text, note } satisfies Saved, null, 2) + '\n');
    found.notes.push(`saved this checkpoint to ${opts.fromCheckpoint}`);
  }
  return { ok, size: checkpoint.size, ...found };
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
  for (const u of report.unverified) console.log(`UNVERIFIED: ${u}`);
  for (const p of report.problems) console.log(`TAMPERED: ${p}`);
  if (report.ok) console.log(`verified: ${report.size} entries`);
  else if (report.problems.length) console.log(`verification FAILED: ${report.problems.length} problem(s)`);
  else console.log(`could not verify: ${report.unverified.length} leaves in a format newer than this verifier`);
  // 0 verified, 1 tampered, 2 could not verify (ARCHITECTURE.md).
  if (!report.ok) process.exitCode = report.problems.length ? 1 : 2;
}
