/**
 * The ledger's public HTTP face (contract in ARCHITECTURE.md), read-only over the ledger
 * database the worker appends to, through its read model (ledger/store/read-model.ts);
 * one handler per route:
 *
 *   GET /ledger/checkpoint                      latest C2SP signed checkpoint (text)
 *   GET /ledger/checkpoints?limit=L[&before=N]  stored checkpoints, newest first (sizes < N)
 *   GET /ledger/checkpoints?since=M[&limit=L]   stored checkpoints of size ≥ M, oldest first
 *   GET /ledger/key                             the note verifier key that signs now
 *   GET /ledger/keys                            every note key, with the tree sizes it signs
 *   GET /ledger/witnesses                       the witnesses asked to cosign (LEDGER_WITNESSES)
 *   GET /ledger/proof/inclusion?index=I&treeSize=N
 *   GET /ledger/proof/consistency?from=M&to=N
 *   GET /ledger/entries/I                       compliance role only
 *   GET /ledger/tile/<L>/<N>[.p/<W>]            C2SP tlog-tiles hash tiles (tile-routes.ts)
 *   GET /ledger/tile/entries/<N>[.p/<W>]        entry bundles, compliance role only
 *
 * Proofs are computed from the stored perfect-subtree hashes: O(log n) node reads.
 * Malformed or out-of-range numbers are a 400 with a reason, never a 500.
 */
import type { VerifyWith } from '../common/keysets';
import express, { type Request, type Response, type Router } from 'express';
import type { DataSource } from 'typeorm';
import type { Logger } from '../common/logger';
import { metrics } from '../common/metrics/series';
import { encodeBase64, hexKeyId, TreeRangeError, type MerkleTree } from '../ledger/core';
import type { WitnessEndpoint } from '../ledger/witness/endpoints';
import { ledgerKeys } from '../ledger/store/ledger-keys';
import { checkpointsBefore, checkpointsSince, entry, latestCheckpoint, ledgerTree, type StoredCheckpoint } from '../ledger/store/read-model';
import { TileReader } from '../ledger/store/tile-reader';
import { AuthError } from './identity/errors';
import { requireCompliance } from './ledger-access';
import { tileRouter } from './tile-routes';

type Handler = (req: Request, res: Response) => Promise<void>;

function refuse(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

const DECIMAL = /^(0|[1-9]\d{0,15})$/;

/** A non-negative integer query parameter, strictly decimal. */
function count(req: Request, name: string): number | null {
  const raw = req.query[name];
  if (typeof raw !== 'string' || !DECIMAL.test(raw)) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : null;
}

const MAX_CHECKPOINT_PAGE = 100;

/** GET /ledger/checkpoint */
function latestCheckpointNote(ledgerDb: DataSource): Handler {
  return async (_req, res) => {
    const latest = await latestCheckpoint(ledgerDb);
    if (!latest) return refuse(res, 503, 'NO_CHECKPOINT', 'No checkpoint has been published yet');
    res.type('text/plain; charset=utf-8').send(latest.note);
  };
}

/**
 * GET /ledger/checkpoints: every published checkpoint is kept, so a verifier can fetch
 * the ones it missed (since) or browse back from the latest (before). JSON, one page.
 */
function checkpointHistory(ledgerDb: DataSource): Handler {
  return async (req, res) => {
    const has = (name: string) => req.query[name] !== undefined;
    const limit = has('limit') ? count(req, 'limit') : 20;
    const since = has('since') ? count(req, 'since') : undefined;
    const before = has('before') ? count(req, 'before') : undefined;
    if (limit === null || limit < 1 || limit > MAX_CHECKPOINT_PAGE) {
      return refuse(res, 400, 'BAD_REQUEST', `limit must be an integer from 1 to ${MAX_CHECKPOINT_PAGE}`);
    }
    if (since === null || before === null) return refuse(res, 400, 'BAD_REQUEST', 'since and before must be non-negative integers');
    if (since !== undefined && before !== undefined) return refuse(res, 400, 'BAD_REQUEST', 'give since or before, not both');
    // One more than the page tells whether there is a next one.
    let page: StoredCheckpoint[];
    let next: Record<string, number> | null = null;
    if (since !== undefined) {
      page = await checkpointsSince(ledgerDb, since, limit + 1);
      if (page.length > limit) next = { since: page[limit]!.size };
    } else {
      page = await checkpointsBefore(ledgerDb, before, limit + 1);
      if (page.length > limit) next = { before: page[limit - 1]!.size };
    }
    res.json({
      checkpoints: page.slice(0, limit).map((c) => ({ size: c.size, root: c.root, note: c.note, publishedAt: c.publishedAt.toISOString() })),
      next,
    });
  };
}

/**
 * GET /ledger/key. `verifierKey` says which key to serve: a pinned one
 * (LEDGER_VERIFIER_KEY), or the one the worker recorded in the ledger database — the
 * gateway never holds the signer key.
 */
function noteVerifierKey(verifierKey: () => Promise<string | null>): Handler {
  return async (_req, res) => {
    const key = await verifierKey();
    if (!key) return refuse(res, 503, 'NO_CHECKPOINT_YET', 'The ledger has not signed a checkpoint yet; try again in a few seconds');
    res.type('text/plain; charset=utf-8').send(key + '\n');
  };
}

/**
 * GET /ledger/keys: every key that has signed, oldest first, with the tree sizes it signs
 * (ledger/FORMAT.md, "Key rotation"). A list, not a trust anchor: a verifier follows a
 * key only through the checkpoint of size `fromSize` that its predecessor also signed.
 */
function noteVerifierKeys(ledgerDb: DataSource): Handler {
  return async (_req, res) => {
    res.json({ keys: await ledgerKeys(ledgerDb) });
  };
}

/** One witness as GET /ledger/witnesses lists it. */
export interface ListedWitness {
  /** The cosigner key name (its cosignature lines are `— <name> …`). */
  name: string;
  /** 8 hex digits: the cosignature/v1 key ID (type 0x04). */
  keyId: string;
  /** `<name>+<id>+base64(0x04 ‖ key)`, as the witness printed it. */
  verifierKey: string;
  /** Host (and port) of the witness's URL: who runs it, not a credential. */
  host: string;
}

/**
 * GET /ledger/witnesses: the witnesses the publisher asks (LEDGER_WITNESSES), so a
 * browser can check the cosignatures on each checkpoint itself and name the witnesses
 * that did not cosign. A list to check against, like /ledger/keys, not a trust anchor:
 * a verifier that distrusts the hub compares the keys with what each witness publishes.
 * Only the host of each URL is shown: a base URL may carry a path or credentials.
 */
function witnessList(witnesses: readonly WitnessEndpoint[]): Handler {
  const listed: ListedWitness[] = witnesses.map((w) => ({
    name: w.verifier.name,
    keyId: hexKeyId(w.verifier.keyId),
    verifierKey: w.verifier.verifierKey,
    host: new URL(w.baseUrl).host,
  }));
  return async (_req, res) => {
    res.set('cache-control', 'no-cache').json({ witnesses: listed });
  };
}

/** GET /ledger/proof/inclusion?index=I&treeSize=N */
function inclusionProof(tree: MerkleTree): Handler {
  return async (req, res) => {
    const index = count(req, 'index');
    const treeSize = count(req, 'treeSize');
    if (index === null || treeSize === null) return refuse(res, 400, 'BAD_REQUEST', 'index and treeSize must be non-negative integers');
    const served = metrics.proofTimer('inclusion', 'http');
    const hashes = await tree.inclusionProof(index, treeSize);
    served();
    res.json({ leafIndex: index, treeSize, hashes: hashes.map(encodeBase64) });
  };
}

/** GET /ledger/proof/consistency?from=M&to=N */
function consistencyProof(tree: MerkleTree): Handler {
  return async (req, res) => {
    const from = count(req, 'from');
    const to = count(req, 'to');
    if (from === null || to === null) return refuse(res, 400, 'BAD_REQUEST', 'from and to must be non-negative integers');
    if (from < 1) return refuse(res, 400, 'BAD_REQUEST', 'from must be at least 1: every tree is consistent with the empty one');
    if (from > to) return refuse(res, 400, 'BAD_REQUEST', `from ${from} is after to ${to}`);
    const served = metrics.proofTimer('consistency', 'http');
    const hashes = await tree.consistencyProof(from, to);
    served();
    res.json({ fromSize: from, toSize: to, hashes: hashes.map(encodeBase64) });
  };
}

/** GET /ledger/entries/I, for the compliance role: the leaf's exact bytes and what they say. */
function ledgerEntry(ledgerDb: DataSource, identityDb: DataSource, sessionKey: VerifyWith): Handler {
  return async (req, res) => {
    await requireCompliance(identityDb, req, sessionKey);
    const raw = String(req.params.index);
    if (!DECIMAL.test(raw)) return refuse(res, 400, 'BAD_REQUEST', 'the index must be a non-negative integer');
    const found = await entry(ledgerDb, Number(raw));
    if (!found) return refuse(res, 404, 'NOT_FOUND', `no entry ${raw}`);
    // The format is in the bytes (ledger/FORMAT.md); the contract's shape is these four.
    res.json({ index: found.index, leafHash: found.leafHash, leafData: found.leafData, event: found.event });
  };
}

export interface LedgerRouteOptions {
  /** Shares its cache of full tiles (or counts its reads); one is made otherwise. */
  tiles?: TileReader;
  /** The witnesses of LEDGER_WITNESSES, listed at GET /ledger/witnesses (none by default). */
  witnesses?: readonly WitnessEndpoint[];
}

export function ledgerRoutes(
  ledgerDb: DataSource,
  verifierKey: () => Promise<string | null>,
  identityDb: DataSource,
  sessionKey: VerifyWith,
  log: Logger,
  { tiles = new TileReader(ledgerDb), witnesses = [] }: LedgerRouteOptions = {},
): Router {
  const guard = (handler: Handler) => (req: Request, res: Response) =>
    handler(req, res).catch((err: unknown) => {
      if (err instanceof AuthError) return refuse(res, err.status, err.code, err.message);
      // Sizes and indexes past the tree: the tree checks them against its size in the same read.
      if (err instanceof TreeRangeError) return refuse(res, 400, 'BAD_REQUEST', err.message);
      log.error({ err }, 'ledger endpoint failed');
      refuse(res, 500, 'INTERNAL', 'Internal error');
    });
  const tree = ledgerTree(ledgerDb);
  return express
    .Router()
    .get('/checkpoint', guard(latestCheckpointNote(ledgerDb)))
    .get('/checkpoints', guard(checkpointHistory(ledgerDb)))
    .get('/key', guard(noteVerifierKey(verifierKey)))
    .get('/keys', guard(noteVerifierKeys(ledgerDb)))
    .get('/witnesses', guard(witnessList(witnesses)))
    .get('/proof/inclusion', guard(inclusionProof(tree)))
    .get('/proof/consistency', guard(consistencyProof(tree)))
    .get('/entries/:index', guard(ledgerEntry(ledgerDb, identityDb, sessionKey)))
    .use('/tile', tileRouter(guard, tiles, identityDb, sessionKey));
}
