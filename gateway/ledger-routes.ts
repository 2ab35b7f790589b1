/**
 * The ledger's public HTTP face (contract in ARCHITECTURE.md), read-only over the ledger
 * database the worker appends to:
 *
 *   GET /ledger/checkpoint                      latest C2SP signed checkpoint (text)
 *   GET /ledger/key                             the note verifier key
 *   GET /ledger/proof/inclusion?index=I&treeSize=N
 *   GET /ledger/proof/consistency?from=M&to=N
 *   GET /ledger/entries/I                       compliance role only
 *
 * Proofs are computed from the stored perfect-subtree hashes: O(log n) node reads.
 * Malformed or out-of-range numbers are a 400 with a reason, never a 500.
 */
import type { KeyObject } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { DataSource } from 'typeorm';
import type { Logger } from '../common/logger';
import { latestCheckpoint } from '../ledger/checkpoints';
import { entry, ledgerTree } from '../ledger/entries';
import { encodeBase64 } from '../ledger';
import { authenticate } from './identity/authenticate';
import { AuthError } from './identity/errors';

function refuse(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

/** A non-negative integer query parameter, strictly decimal. */
function count(req: Request, name: string): number | null {
  const raw = req.query[name];
  if (typeof raw !== 'string' || !/^(0|[1-9]\d{0,15})$/.test(raw)) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : null;
}

export function ledgerRoutes(ledgerDb: DataSource, verifierKey: string, identityDb: DataSource, sessionKey: KeyObject, log: Logger): Router {
  const router = express.Router();
  const tree = ledgerTree(ledgerDb);
  const guard = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response) =>
    fn(req, res).catch((err: unknown) => {
      if (err instanceof AuthError) return refuse(res, err.status, err.code, err.message);
      log.error({ err }, 'ledger endpoint failed');
      refuse(res, 500, 'INTERNAL', 'Internal error');
    });

  router.get(
    '/checkpoint',
    guard(async (_req, res) => {
      const latest = await latestCheckpoint(ledgerDb);
      if (!latest) return refuse(res, 503, 'NO_CHECKPOINT', 'No checkpoint has been published yet');
      res.type('text/plain; charset=utf-8').send(latest.note);
    }),
  );

  router.get('/key', (_req, res) => {
    res.type('text/plain; charset=utf-8').send(verifierKey + '\n');
  });

  router.get(
    '/proof/inclusion',
    guard(async (req, res) => {
      const index = count(req, 'index');
      const treeSize = count(req, 'treeSize');
      if (index === null || treeSize === null) return refuse(res, 400, 'BAD_REQUEST', 'index and treeSize must be non-negative integers');
      const size = await tree.size();
      if (treeSize > size) return refuse(res, 400, 'BAD_REQUEST', `treeSize ${treeSize} is past the tree (size ${size})`);
      if (index >= treeSize) return refuse(res, 400, 'BAD_REQUEST', `index ${index} is not below treeSize ${treeSize}`);
      const hashes = await tree.inclusionProof(index, treeSize);
      res.json({ leafIndex: index, treeSize, hashes: hashes.map(encodeBase64) });
    }),
  );

  router.get(
    '/proof/consistency',
    guard(async (req, res) => {
      const from = count(req, 'from');
      const to = count(req, 'to');
      if (from === null || to === null) return refuse(res, 400, 'BAD_REQUEST', 'from and to must be non-negative integers');
      const size = await tree.size();
      if (from < 1) return refuse(res, 400, 'BAD_REQUEST', 'from must be at least 1: every tree is consistent with the empty one');
      if (from > to) return refuse(res, 400, 'BAD_REQUEST', `from ${from} is after to ${to}`);
      if (to > size) return refuse(res, 400, 'BAD_REQUEST', `to ${to} is past the tree (size ${size})`);
      const hashes = await tree.consistencyProof(from, to);
      res.json({ fromSize: from, toSize: to, hashes: hashes.map(encodeBase64) });
    }),
  );

  router.get(
    '/entries/:index',
    guard(async (req, res) => {
      const principal = await authenticate(identityDb, req.header('authorization'), sessionKey);
      if (principal.user.role !== 'compliance') return refuse(res, 403, 'FORBIDDEN', 'Ledger entries are for the compliance role');
      const raw = String(req.params.index);
      if (!/^(0|[1-9]\d{0,15})$/.test(raw)) return refuse(res, 400, 'BAD_REQUEST', 'the index must be a non-negative integer');
      const found = await entry(ledgerDb, Number(raw));
      if (!found) return refuse(res, 404, 'NOT_FOUND', `no entry ${raw}`);
      res.json(found);
    }),
  );
  return router;
}
