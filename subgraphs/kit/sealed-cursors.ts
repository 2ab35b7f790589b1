/**
 * Cursors that do not show what they point at.
 *
 * A keyset cursor (common/pagination.ts) is readable base64 of its last row's sort key,
 * and the last column of every sort is the row's id. For a pseudonymous research series
 * that id would lead back to the patient: `labResult(id)` answers a member with the
 * result and its `patient`. So the series seal their cursors: AES-256-GCM under a key
 * derived (HKDF, its own label) from the pseudonym secret, which the research, labs and
 * devices subgraphs share. A sealed cursor is opaque and cannot be forged or altered; one
 * that does not open is the same BAD_USER_INPUT as any malformed cursor.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { badInput } from '../../common/errors';
import type { Connection } from '../../common/pagination';

export interface CursorSeal {
  seal(cursor: string): string;
  /** The plain cursor inside `sealed`; BAD_USER_INPUT if it was not sealed here. */
  open(sealed: string): string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function cursorSeal(secret: Buffer): CursorSeal {
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'custodian-research-cursor/v1', 32));
  return {
    seal(cursor) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(cursor, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    },
    open(sealed) {
      try {
        if (!/^[A-Za-z0-9_-]+$/.test(sealed)) throw new Error('not base64url');
        const raw = Buffer.from(sealed, 'base64url');
        if (raw.length <= IV_BYTES + TAG_BYTES) throw new Error('too short');
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
        decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
        return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        throw badInput('Malformed cursor: pass back an endCursor exactly as it was returned', 'after');
      }
    },
  };
}

/**
 * `connection` with every cursor sealed — its edges' and its pageInfo's (whatever cursor
 * fields PageInfo has) — each plain cursor sealed once, so `endCursor` stays equal to the
 * last edge's cursor.
 */
export function sealConnection<C extends Connection<unknown>>(connection: C, seal: CursorSeal): C {
  const sealed = new Map<string, string>();
  const once = (cursor: string) => {
    let s = sealed.get(cursor);
    if (s === undefined) sealed.set(cursor, (s = seal.seal(cursor)));
    return s;
  };
  const pageInfo: Record<string, unknown> = { ...connection.pageInfo };
  for (const [k, v] of Object.entries(pageInfo)) if (k.endsWith('Cursor') && typeof v === 'string') pageInfo[k] = once(v);
  return { ...connection, edges: connection.edges.map((e) => ({ ...e, cursor: once(e.cursor) })), pageInfo };
}

/** Page arguments with their sealed `after` and `before` cursors opened back to plain ones. */
export const openCursors = <A extends { after?: string | null; before?: string | null }>(args: A, seal: CursorSeal): A => ({
  ...args,
  ...(args.after ? { after: seal.open(args.after) } : {}),
  ...(args.before ? { before: seal.open(args.before) } : {}),
});
