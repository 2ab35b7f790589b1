/**
 * C2SP tlog-tiles under /ledger/ (https://c2sp.org/tlog-tiles; paths and formats in
 * ledger/core/tiles.ts, reads in ledger/store/tile-reader.ts):
 *
 *   GET /ledger/tile/<L>/<N>[.p/<W>]        hash tiles, public
 *   GET /ledger/tile/entries/<N>[.p/<W>]    entry bundles, compliance role only (as /ledger/entries/I)
 *
 * Full tiles are immutable and say so (`max-age=31536000, immutable`): a CDN or a mirror
 * may keep them forever. Entry bundles are `private`, so no shared cache hands the
 * compliance role's data to anyone else; partial tiles are cached briefly. A tile past
 * the tree is a 404 and a path that is not the spec's exact spelling a 400, both JSON.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { DataSource } from 'typeorm';
import type { VerifyWith } from '../common/keysets';
import { isFull, parseTilePath, type TileRef } from '../ledger/core/tiles';
import type { TileReader } from '../ledger/store/tile-reader';
import { requireCompliance } from './ledger-access';

const IMMUTABLE = 'max-age=31536000, immutable';
/** Partial tiles are immutable too, but clients are told to fetch the full one soon. */
const SHORT = 'max-age=10';

function refuse(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

export type TileHandler = (req: Request, res: Response) => Promise<void>;

/** GET /ledger/tile/… */
export function tileRoute(tiles: TileReader, identityDb: DataSource, sessionKey: VerifyWith): TileHandler {
  return async (req, res) => {
    // req.path is what follows /ledger/tile/, still percent-encoded: a tile path never needs encoding.
    const tile: TileRef | null = parseTilePath(req.path.replace(/^\//, ''));
    if (!tile) {
      return refuse(res, 400, 'BAD_TILE_PATH', 'expected tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], N in 3-digit groups (x001/x234/067), W 1..255 (c2sp.org/tlog-tiles)');
    }
    const bundle = tile.level === 'entries';
    if (bundle) await requireCompliance(identityDb, req, sessionKey);
    const bytes = await tiles.read(tile);
    if (!bytes) return refuse(res, 404, 'NOT_FOUND', `the tree has no ${bundle ? 'entry bundle' : 'tile'} ${req.path.slice(1)} yet`);
    res
      .status(200)
      .set('Content-Type', 'application/octet-stream')
      .set('Cache-Control', `${bundle ? 'private' : 'public'}, ${isFull(tile) ? IMMUTABLE : SHORT}`)
      .send(bytes);
  };
}

/** Mounted at /ledger/tile by ledger-routes.ts, behind its error guard. */
export function tileRouter(handler: (h: TileHandler) => express.RequestHandler, tiles: TileReader, identityDb: DataSource, sessionKey: VerifyWith): Router {
  return express.Router().get('/*tile', handler(tileRoute(tiles, identityDb, sessionKey)));
}
