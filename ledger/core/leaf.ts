/**
 * What a ledger leaf says about an event, and in which exact bytes (ledger/FORMAT.md).
 *
 * A leaf is the RFC 8785 (JCS) canonical JSON of a flat object {id, kind, at, …fields},
 * hashed as its UTF-8 bytes; from format 2 on it also carries its format, `"v": 2`.
 * Canonical JSON makes the bytes a function of the content alone, so anyone holding the
 * event can rebuild the leaf (in its format) and check its hash. Leaves are immutable:
 * a leaf without `v` is format 1 and is read exactly as it always was; readLeaf is the
 * one parser every reader uses (the read model, the audit subgraph, `custodian verify`).
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
const RESERVED = new Set(['id', 'kind', 'payloadDigest', 'v']);
/** Event ids: what newId makes; they also serve as BullMQ job ids (no ":", not all digits) and fit varchar(40). */
export const EVENT_ID = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;

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

/** 1: {id, kind, at, …fields} (until 2026-12); 2: the same and `"v": 2`. */
export type LeafFormat = 1 | 2;
/** The format new leaves are written in. */
export const LEAF_FORMAT: LeafFormat = 2;

/** The object a leaf is the canonical JSON of: the event, and its format from 2 on (format 1 had no field for it). */
function leafRecord(event: LedgerEvent, format: LeafFormat = LEAF_FORMAT): Readonly<Record<string, unknown>> {
  return format === 1 ? event : { ...event, v: format };
}

/** The exact leaf bytes: RFC 8785 canonical JSON, UTF-8. */
export function leafBytes(event: LedgerEvent, format: LeafFormat = LEAF_FORMAT): Buffer {
  return Buffer.from(canonical(leafRecord(event, format)), 'utf8');
}

/** leafBytes and their RFC 6962 leaf hash. */
export function encodeLeaf(event: LedgerEvent, format: LeafFormat = LEAF_FORMAT): { data: Buffer; text: string; hash: Buffer } {
  const text = canonical(leafRecord(event, format));
  const data = Buffer.from(text, 'utf8');
  return { data, text, hash: leafHash(data) };
}

/** What a leaf's bytes say: its format and its event. */
export interface ReadLeaf {
  readonly format: LeafFormat;
  readonly event: LedgerEvent;
}

export class LeafFormatError extends Error {
  override readonly name = 'LeafFormatError';
  constructor(
    /** `unknown-format`: a `v` this reader does not know (a newer writer); `malformed`: no leaf of any format. */
    readonly code: 'unknown-format' | 'malformed',
    message: string,
  ) {
    super(message);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a leaf of any format: UTF-8, the canonical JSON of one flat object with a
 * string id, kind and at, and a known `v` (none for format 1). Throws LeafFormatError
 * for anything else — bytes this code did not write, or a format newer than it knows.
 */
export function readLeaf(data: Uint8Array | string): ReadLeaf {
  let text: string;
  let parsed: unknown;
  try {
    text = typeof data === 'string' ? data : utf8.decode(data);
    parsed = JSON.parse(text);
  } catch {
    throw new LeafFormatError('malformed', 'the leaf is not UTF-8 JSON');
  }
  if (!isPlainObject(parsed)) throw new LeafFormatError('malformed', 'the leaf is not a JSON object');
  const { v, ...event } = parsed;
  const format = formatOf(v);
  for (const key of ['id', 'kind', 'at'] as const) {
    if (typeof event[key] !== 'string') throw new LeafFormatError('malformed', `the leaf has no string ${key}`);
  }
  for (const [key, value] of Object.entries(event)) {
    if (!isLeafValue(value)) throw new LeafFormatError('malformed', `the leaf field ${key} is not a scalar or a list of strings`);
  }
  // One spelling per content: the hash commits to the bytes, readers to what they say.
  if (canonical(parsed) !== text) throw new LeafFormatError('malformed', 'the leaf is not RFC 8785 canonical JSON');
  return { format, event: event as LedgerEvent };
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

function isLeafValue(value: unknown): value is LedgerScalar | readonly string[] {
  if (Array.isArray(value)) return value.every((v) => typeof v === 'string');
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/** Format 1 is the absence of `v`, so `"v":1` was never written and is refused. */
function formatOf(v: unknown): LeafFormat {
  if (v === undefined) return 1;
  if (v === 2) return 2;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > LEAF_FORMAT) {
    throw new LeafFormatError('unknown-format', `leaf format ${v} is newer than this reader (it knows 1 to ${LEAF_FORMAT})`);
  }
  throw new LeafFormatError('malformed', `the leaf's format ${JSON.stringify(v)} is not one ever written`);
}
