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
 *
 * Key rotation (ledger/core/key-rotation.ts): the trusted key is followed to a newer one
 * only through the checkpoint that announces it — signed by both, naming the new key —
 * and that checkpoint's root must be the root of the same leaves. Every key in GET
 * /ledger/keys after the first must be announced so; a key introduced any other way,
 * or a latest checkpoint signed by no key the trusted one leads to, is a problem (exit 1).
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import canonicalize from 'canonicalize';
import {
  InMemoryNodeStore,
  LeafFormatError,
  MerkleTree,
  decodeBase64Strict,
  hexKeyId,
  leafHash,
  openAnnouncement,
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

/** One key of GET /ledger/keys. */
interface ServedKey {
  verifierKey: string;
  fromSize: number;
  retiredAtSize: number | null;
}

/** A rotation the trusted key led to: its announcing checkpoint, whose root is checked against the leaves. */
interface Announcement {
  from: string;
  to: string;
  checkpoint: Checkpoint;
}

/** The key to trust: pinned, else saved with the last checkpoint, else — first time only — the served one. */
async function trustedKey(opts: VerifyOptions, saved: Saved | null, found: Findings): Promise<{ text: string; served: string }> {
  const served = (await (await get(opts.url, '/ledger/key')).text()).trim();
  const text = opts.key ?? saved?.key ?? served;
  if (!opts.key && !saved) found.notes.push('no pinned key and no saved checkpoint: trusting the served key on first use');
  parseVerifierKey(text); // a malformed pin stops here
  return { text, served };
}

/** GET /ledger/keys; null from a server that predates it. */
async function servedKeys(opts: VerifyOptions): Promise<ServedKey[] | null> {
  const res = await fetch(new URL('/ledger/keys', opts.url));
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`GET /ledger/keys: HTTP ${res.status}`);
  return ((await res.json()) as { keys: ServedKey[] }).keys;
}

/** The stored checkpoint of exactly `size`, or null. */
async function checkpointOfSize(opts: VerifyOptions, size: number): Promise<string | null> {
  const page = (await (await get(opts.url, `/ledger/checkpoints?since=${size}&limit=1`)).json()) as { checkpoints: { size: number; note: string }[] };
  const found = page.checkpoints[0];
  return found && found.size === size ? found.note : null;
}

/**
 * The key that signs now, reached from the trusted one through announced rotations
 * only. Every key of the list after the first must be announced by its predecessor;
 * the walk from the trusted key stops at the first that is not.
 */
async function followRotations(opts: VerifyOptions, trusted: string, served: string, found: Findings): Promise<{ key: string; announcements: Announcement[] }> {
  const keys = await servedKeys(opts);
  if (!keys) {
    if (served !== trusted) found.problems.push(`the server's key changed: it serves ${served}, we trust ${trusted}, and it lists no announced rotation`);
    return { key: trusted, announcements: [] };
  }
  const valid: boolean[] = [true];
  const announcements: (Announcement | null)[] = [null];
  for (let i = 1; i < keys.length; i++) {
    const [previous, next] = [keys[i - 1]!, keys[i]!];
    const note = await checkpointOfSize(opts, next.fromSize);
    try {
      if (!note) throw new Error(`there is no checkpoint of size ${next.fromSize}`);
      const checkpoint = openAnnouncement(note, previous.verifierKey, next.verifierKey);
      if (previous.retiredAtSize !== next.fromSize) throw new Error(`the key it replaces is listed as retired at ${previous.retiredAtSize}, not ${next.fromSize}`);
      announcements.push({ from: previous.verifierKey, to: next.verifierKey, checkpoint });
      valid.push(true);
    } catch (err) {
      found.problems.push(`key ${next.verifierKey} is listed from size ${next.fromSize} without a checkpoint announcing it signed by ${previous.verifierKey}: ${(err as Error).message}`);
      announcements.push(null);
      valid.push(false);
    }
  }
  const start = keys.findIndex((k) => k.verifierKey === trusted);
  if (start < 0) {
    found.problems.push(`the trusted key ${trusted} is not among the keys the server lists`);
    return { key: trusted, announcements: [] };
  }
  let at = start;
  const followed: Announcement[] = [];
  while (at + 1 < keys.length && valid[at + 1]) {
    followed.push(announcements[at + 1]!);
    at++;
  }
  for (const a of followed) {
    found.notes.push(`followed a key rotation at size ${a.checkpoint.size}: ${keyId(a.from)} → ${keyId(a.to)}, announced by a checkpoint signed by both`);
  }
  const key = keys[at]!.verifierKey;
  if (served !== key) found.problems.push(`the server serves the key ${served}, but the trusted key leads to ${key}`);
  return { key, announcements: followed };
}

function keyId(verifierKey: string): string {
  const v = parseVerifierKey(verifierKey);
  return `${v.name}+${hexKeyId(v.keyId)}`;
}

/** The signature lines of a note, as `name+keyid`, to say who signed a checkpoint we refuse. */
function signersOf(note: string): string[] {
  return [...note.matchAll(/^\u2014 (\S+) (\S+)$/gmu)].map(([, name, sig]) => {
    const raw = decodeBase64Strict(sig!);
    return raw && raw.length >= 4 ? `${name}+${raw.readUInt32BE(0).toString(16).padStart(8, '0')}` : `${name}+?`;
  });
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

/**
 * An announcing checkpoint must be of the same log: its root is the root of the first
 * `size` of the leaves just checked (which the latest signed root covers).
 */
async function checkAnnouncementRoots(hashes: Buffer[], announcements: Announcement[], latest: Checkpoint, found: Findings): Promise<void> {
  for (const { checkpoint } of announcements) {
    if (checkpoint.size > latest.size) {
      found.problems.push(`a rotation is announced at size ${checkpoint.size}, after the latest checkpoint (${latest.size})`);
      continue;
    }
    const tree = new MerkleTree(new InMemoryNodeStore());
    await tree.append(hashes.slice(0, checkpoint.size));
    if (!(await tree.rootHash()).equals(checkpoint.rootHash)) {
      found.problems.push(`the checkpoint announcing the key rotation at size ${checkpoint.size} has a root that is not the root of those leaves`);
    }
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
  const pinned = await trustedKey(opts, saved, found);
  const trusted = await followRotations(opts, pinned.text, pinned.served, found);

  const note = await (await get(opts.url, '/ledger/checkpoint')).text();
  let checkpoint: Checkpoint;
  try {
    checkpoint = openCheckpoint(note, [parseVerifierKey(trusted.key)]).checkpoint;
  } catch (err) {
    found.problems.push(
      `the latest checkpoint is not signed by ${keyId(trusted.key)}, the key the trusted one leads to through announced rotations ` +
        `(it is signed by ${signersOf(note).join(', ') || 'nobody'}): ${(err as Error).message}`,
    );
    return { ok: false, size: 0, ...found };
  }
  found.notes.push(`checkpoint ${checkpoint.origin} size ${checkpoint.size} root ${checkpoint.rootHash.toString('base64')}`);

  const hashes = await checkEntries(opts, checkpoint.size, found);
  await checkRoot(hashes, checkpoint, found);
  await checkAnnouncementRoots(hashes, trusted.announcements, checkpoint, found);
  if (saved) await checkGrowth(opts, saved, checkpoint, found);

  const ok = found.problems.length === 0 && found.unverified.length === 0;
  if (opts.fromCheckpoint && ok) {
    fs.writeFileSync(opts.fromCheckpoint, JSON.stringify({ key: trusted.key, note } satisfies Saved, null, 2) + '\n');
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
