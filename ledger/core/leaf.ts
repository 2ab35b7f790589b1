/**
 * What a ledger leaf says about an event, and in which exact bytes.
 *
 * A leaf is the RFC 8785 (JCS) canonical JSON of a flat object {id, kind, at, …fields},
 * hashed as its UTF-8 bytes. Canonical JSON makes the bytes a function of the content
 * alone, so anyone holding the event can rebuild the leaf and check its hash.
 *
 * The ledger is public to auditors and its leaves can never be deleted, so a leaf must
 * not carry names or clinical values. The rule is an allow-list, applied to every
 * outbox payload field:
 *
 *   - pass through when the key is one of ALLOWED_FIELDS (category, action, purpose,
 *     decision, decidedBy, consentVersion, service, role, requestId, at, and the words
 *     of a consent: categories, actions, purposes, effect, validFrom, validUntil,
 *     identified, scopes, sequence) and the value is a short single-line string, a
 *     finite number, a boolean or null;
 *   - pass through when the key names opaque ids — `subject`, or `…Id` / `…Ids` — and
 *     the value is an id-shaped token (or a list of them);
 *   - pass through when the key is a count — `count` or `…Count` — with a
 *     non-negative integer value;
 *   - everything else — any other key, or an allowed key with an unexpected value — is
 *     removed, and `payloadDigest` = base64 SHA-256 of the canonical JSON of the removed
 *     fields stands in for them. Whoever holds the original payload can show it is the
 *     one the ledger committed to; the ledger itself reveals nothing of it.
 *
 * (The digest is unsalted: it hides values from casual reading and commits to them,
 * but a low-entropy value can be found by trying candidates. Keep such values out of
 * outbox payloads, or add a per-event random field — it is folded in with them.)
 *
 * Redaction is idempotent — a valid `payloadDigest` passes through — so the worker can
 * re-apply it to whatever arrives from the queue without changing a well-formed event.
 */
import { hash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { decodeBase64Strict, encodeBase64 } from './encoding';
import { HASH_SIZE, leafHash } from './hashing';

export type LedgerScalar = string | number | boolean | null;

/** A ledger event: flat, with opaque ids only. */
export interface LedgerEvent {
  readonly id: string;
  readonly kind: string;
  /** ISO-8601 UTC instant: when it happened (the payload's `at`), else when it was recorded. */
  readonly at: string;
  readonly [field: string]: LedgerScalar | readonly string[];
}

export const ALLOWED_FIELDS: ReadonlySet<string> = new Set([
  'category',
  'action',
  'purpose',
  'decision',
  'decidedBy',
  'consentVersion',
  'service',
  'role',
  'requestId',
  'at',
  // What a consent or token says (vocabulary words and instants; never free text).
  'categories',
  'actions',
  'purposes',
  'effect',
  'validFrom',
  'validUntil',
  'identified',
  'scopes',
  'sequence',
]);

const ID_KEY = /^(?:subject|[a-z][A-Za-z0-9]*Ids?)$/;
const COUNT_KEY = /^(?:count|[a-z][A-Za-z0-9]*Count)$/;
/** Opaque ids as newId makes them (`pat_3f…`), grantee ids (`nurse@inst_…`), and the like: no spaces, short. */
const ID_VALUE = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,99}$/;
const SHORT_TEXT = /^[^\u0000-\u001f]{0,100}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const RESERVED = new Set(['id', 'kind', 'payloadDigest']);
/** Event ids: what newId makes; they also serve as BullMQ job ids (no ":", not all digits) and fit varchar(40). */
const EVENT_ID = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;

export class LedgerEventError extends Error {
  override readonly name = 'LedgerEventError';
}

/**
 * The ledger event for an outbox row. `payload` is the row's JSON text; when it is not
 * a JSON object, all of it is folded into the digest.
 */
export function ledgerEventFromOutbox(row: { id: string; kind: string; payload: string; createdAt: Date | string }): LedgerEvent {
  let fields: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(row.payload);
    fields = isPlainObject(parsed) ? parsed : { payload: parsed };
  } catch {
    fields = { payload: row.payload };
  }
  const recordedAt = typeof row.createdAt === 'string' ? new Date(row.createdAt) : row.createdAt;
  return redactFields(row.id, row.kind, fields, recordedAt.toISOString());
}

/** Re-applies the allow-list to an event (as the worker does with what the queue delivers). */
export function redactEvent(input: Record<string, unknown>): LedgerEvent {
  const { id, kind, ...fields } = input;
  return redactFields(id, kind, fields);
}

/**
 * The event `id` of `kind` with the allowed `fields`; a payload's own `id` or `kind`
 * is folded like any other unexpected field. `fallbackAt` is used when the fields have
 * no valid `at`.
 */
export function redactFields(id: unknown, kind: unknown, input: Record<string, unknown>, fallbackAt?: string): LedgerEvent {
  if (typeof id !== 'string' || !EVENT_ID.test(id)) throw new LedgerEventError(`event id ${JSON.stringify(id)} is not an event id`);
  if (typeof kind !== 'string' || !ID_VALUE.test(kind)) throw new LedgerEventError(`event kind ${JSON.stringify(kind)} is not a token`);

  const kept: Record<string, LedgerScalar | readonly string[]> = {};
  const folded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (key === 'payloadDigest') {
      if (isDigest(value)) kept[key] = value;
      else folded[key] = value;
    } else if (allowed(key, value)) {
      kept[key] = value as LedgerScalar | readonly string[];
    } else {
      folded[key] = value;
    }
  }

  const at = typeof kept.at === 'string' && INSTANT.test(kept.at) ? kept.at : fallbackAt;
  if (at === undefined || !INSTANT.test(at)) throw new LedgerEventError(`event ${id} has no ISO-8601 UTC instant`);
  if ('at' in kept && kept.at !== at) {
    folded.at = kept.at;
  }

  if (Object.keys(folded).length > 0) {
    if (typeof kept.payloadDigest === 'string') {
      // Already redacted once and new fields appeared: commit to both.
      folded.payloadDigest = kept.payloadDigest;
    }
    kept.payloadDigest = payloadDigest(folded);
  }
  return { ...kept, id, kind, at };
}

/** base64 SHA-256 of the canonical JSON of `fields`. */
export function payloadDigest(fields: Record<string, unknown>): string {
  return encodeBase64(hash('sha256', Buffer.from(canonical(fields), 'utf8'), 'buffer'));
}

/** The exact leaf bytes: RFC 8785 canonical JSON, UTF-8. */
export function leafBytes(event: LedgerEvent): Buffer {
  return Buffer.from(canonical(event), 'utf8');
}

/** leafBytes and their RFC 6962 leaf hash. */
export function encodeLeaf(event: LedgerEvent): { data: Buffer; text: string; hash: Buffer } {
  const text = canonical(event);
  const data = Buffer.from(text, 'utf8');
  return { data, text, hash: leafHash(data) };
}

function canonical(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new LedgerEventError('value has no JSON form');
  return text;
}

function allowed(key: string, value: unknown): boolean {
  if (RESERVED.has(key)) return false;
  if (ALLOWED_FIELDS.has(key)) {
    return (
      value === null ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (typeof value === 'string' && SHORT_TEXT.test(value))
    );
  }
  if (ID_KEY.test(key)) {
    const isId = (v: unknown) => typeof v === 'string' && ID_VALUE.test(v);
    return key.endsWith('Ids') ? Array.isArray(value) && value.length <= 1000 && value.every(isId) : isId(value);
  }
  if (COUNT_KEY.test(key)) return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
  return false;
}

function isDigest(value: unknown): value is string {
  return typeof value === 'string' && decodeBase64Strict(value)?.length === HASH_SIZE;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
