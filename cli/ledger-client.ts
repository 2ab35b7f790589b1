/**
 * `custodian verify`'s HTTP side: GETs against the gateway's public ledger contract, with
 * every way of failing to *read* turned into CouldNotVerify — unreachable, refused
 * (401/403: a compliance token is needed), rate-limited past patience, a server error,
 * a missing tile. The verifier reports those as "could not verify" (exit 2), never as
 * tampering: only what the bytes it did read prove is tampering (exit 1).
 *
 * Counts requests and bytes, and keeps the tile paths fetched, so a run can say what it
 * read (an incremental run reads only new tiles; the tests count them).
 */
import { tilePath, type TileRef } from '../ledger/core/tiles';

export class CouldNotVerify extends Error {
  override readonly name = 'CouldNotVerify';
}

/** 429: wait as told (at most this long each time), this many times, then give up. */
const MAX_RETRY_WAIT_MS = 60_000;
const MAX_RETRIES = 5;

export class LedgerClient {
  requests = 0;
  bytes = 0;
  readonly tilesFetched: string[] = [];

  constructor(
    readonly base: string,
    private readonly token?: string,
  ) {}

  /** The response body of a 200; CouldNotVerify for anything else. `allow404` returns null on 404 instead. */
  async get(path: string, options: { auth?: boolean; allow404?: boolean } = {}): Promise<Buffer | null> {
    let url: URL;
    try {
      url = new URL(path, this.base);
    } catch {
      throw new CouldNotVerify(`bad --url ${JSON.stringify(this.base)}`);
    }
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        this.requests++;
        res = await fetch(url, { headers: options.auth && this.token ? { authorization: `Bearer ${this.token}` } : {} });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new CouldNotVerify(`cannot reach ${url.origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
      }
      if (res.status === 429 && attempt < MAX_RETRIES) {
        const seconds = Number(res.headers.get('retry-after'));
        await res.arrayBuffer().catch(() => undefined);
        await new Promise((r) => setTimeout(r, Math.min(MAX_RETRY_WAIT_MS, Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000)));
        continue;
      }
      if (res.ok) {
        const body = Buffer.from(await res.arrayBuffer());
        this.bytes += body.length;
        return body;
      }
      const text = (await res.text().catch(() => '')).slice(0, 200);
      if (res.status === 404 && options.allow404) return null;
      if (res.status === 401 || res.status === 403) {
        throw new CouldNotVerify(
          `GET ${url.pathname}: HTTP ${res.status}: ` +
            (options.auth ? `the entries need a compliance officer's token (--token T or CUSTODIAN_TOKEN)${this.token ? '; the one given was refused' : ''}` : text),
        );
      }
      throw new CouldNotVerify(`GET ${url.pathname}: HTTP ${res.status} ${text}`.trim());
    }
  }

  async text(path: string): Promise<string> {
    return (await this.get(path))!.toString('utf8');
  }

  async json<T>(path: string): Promise<T> {
    const body = await this.text(path);
    try {
      return JSON.parse(body) as T;
    } catch {
      throw new CouldNotVerify(`GET ${path}: not JSON`);
    }
  }

  /** A hash tile or entry bundle under /ledger/; a tile the checkpoint needs but the server lacks cannot be verified. */
  async tile(tile: TileRef): Promise<Buffer> {
    const path = tilePath(tile);
    this.tilesFetched.push(path);
    const body = await this.get(`/ledger/${path}`, { auth: tile.level === 'entries', allow404: true });
    if (!body) throw new CouldNotVerify(`GET /ledger/${path}: HTTP 404, though the signed checkpoint needs it`);
    return body;
  }
}
