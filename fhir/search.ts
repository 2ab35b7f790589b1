/**
 * Search parameters, as each resource module declares them: anything not declared is
 * refused (400 OperationOutcome), never ignored — a client that filters on a parameter we
 * drop would take every row for a match. Modifiers (`code:text`) and comma-separated OR
 * lists are refused the same way; only `date` may repeat (its bounds intersect).
 */
import { invalid, notSupported } from './outcome';

export type SearchParamType = 'token' | 'reference' | 'date' | 'string' | 'number';

export interface SearchParamDef {
  name: string;
  type: SearchParamType;
  documentation: string;
}

/** Parameters every search takes (declared in the CapabilityStatement as well). */
export const COMMON_PARAMS: readonly SearchParamDef[] = [
  { name: '_count', type: 'number', documentation: 'Page size, 1 to 100 (default 20).' },
];
/** Not declared to clients: the opaque continuation a `next` link carries. */
export const CURSOR_PARAM = '_cursor';
const ALWAYS_ALLOWED = new Set(['_format', CURSOR_PARAM]);

export interface DateRange {
  /** Inclusive lower bound. */
  since?: Date;
  /** Exclusive upper bound. */
  until?: Date;
}

export interface SearchQuery {
  /** One value of a declared parameter, if given. */
  get(name: string): string | undefined;
  count: number;
  sort?: 'date' | '-date';
  /** The decoded continuation of a `next` link. */
  cursor?: Record<string, unknown>;
  /** The bounds the `date` parameters (ge, gt, le, lt, eq) give together. */
  dates: DateRange;
  /** The parameters as given, for `self` and `next` links. */
  given: URLSearchParams;
}

const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** The instants a FHIR date or dateTime stands for: [start, end). */
export function dateRange(value: string): { start: Date; end: Date } {
  const m = DATE.exec(value);
  if (!m) throw invalid(`"${value}" is not a FHIR date or dateTime (e.g. 2024-05-01 or 2024-05-01T10:00:00Z)`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  if (h !== undefined && zone === undefined) throw invalid(`A dateTime with a time needs a zone (Z or ±hh:mm): "${value}"`);
  const year = Number(y);
  const month = mo ? Number(mo) - 1 : 0;
  const day = d ? Number(d) : 1;
  if (month > 11 || day < 1 || day > 31) throw invalid(`"${value}" is not a valid date`);
  if (h === undefined) {
    // Dates without a time are taken in UTC: the hub stores instants in UTC.
    const start = new Date(Date.UTC(year, month, day));
    const end = new Date(Date.UTC(year + (mo ? 0 : 1), month + (mo && !d ? 1 : 0), day + (d ? 1 : 0)));
    return { start, end };
  }
  const start = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${frac ? `.${frac.slice(0, 3)}` : ''}${zone === 'Z' ? 'Z' : zone}`);
  if (Number.isNaN(start.getTime())) throw invalid(`"${value}" is not a valid dateTime`);
  const step = frac ? 1 : s ? 1000 : 60_000;
  return { start, end: new Date(start.getTime() + step) };
}

function narrow(range: DateRange, since?: Date, until?: Date): DateRange {
  return {
    since: since && (!range.since || since > range.since) ? since : range.since,
    until: until && (!range.until || until < range.until) ? until : range.until,
  };
}

/** `ge2024-01-01` and friends as one [since, until) range; `ne`, `sa`, `eb`, `ap` are refused. */
export function dateBounds(values: string[]): DateRange {
  let range: DateRange = {};
  for (const raw of values) {
    const m = /^(eq|ge|gt|le|lt|ne|sa|eb|ap)?(.*)$/.exec(raw)!;
    const prefix = m[1] ?? 'eq';
    const { start, end } = dateRange(m[2]!);
    if (prefix === 'ge') range = narrow(range, start, undefined);
    else if (prefix === 'gt') range = narrow(range, end, undefined);
    else if (prefix === 'le') range = narrow(range, undefined, end);
    else if (prefix === 'lt') range = narrow(range, undefined, start);
    else if (prefix === 'eq') range = narrow(range, start, end);
    else throw notSupported(`The date prefix "${prefix}" is not supported (use eq, ge, gt, le or lt)`);
  }
  return range;
}

export function encodeCursor(state: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ v: 1, ...state }), 'utf8').toString('base64url');
}

function decodeCursor(value: string): Record<string, unknown> {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(value)) throw new Error('not base64url');
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || (parsed as { v?: unknown }).v !== 1) throw new Error('not ours');
    return parsed as Record<string, unknown>;
  } catch {
    throw invalid(`Malformed ${CURSOR_PARAM}: follow a next link exactly as it was returned`);
  }
}

export interface SearchOptions {
  params: readonly SearchParamDef[];
  /** Whether `_sort=date|-date` applies. */
  sortsByDate: boolean;
}

export function parseSearch(given: URLSearchParams, options: SearchOptions): SearchQuery {
  const declared = new Map([...COMMON_PARAMS, ...options.params].map((p) => [p.name, p]));
  const values = new Map<string, string[]>();
  for (const [key, value] of given) {
    if (key.includes(':')) throw notSupported(`Search modifiers are not supported: "${key}"`);
    if (!declared.has(key) && !ALWAYS_ALLOWED.has(key) && !(key === '_sort' && options.sortsByDate)) {
      const names = [...declared.keys(), ...(options.sortsByDate ? ['_sort'] : [])].join(', ');
      throw notSupported(`Unsupported search parameter "${key}" (this resource supports ${names})`);
    }
    const type = declared.get(key)?.type;
    if (type !== 'date' && values.has(key)) throw notSupported(`"${key}" may be given once`);
    if (type !== 'date' && type !== undefined && value.includes(',')) throw notSupported(`Lists of values (OR) are not supported: "${key}=${value}"`);
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  const format = values.get('_format')?.[0];
  if (format !== undefined && !['json', 'application/json', 'application/fhir+json'].includes(format)) {
    throw notSupported(`_format "${format}" is not supported: this server answers application/fhir+json`);
  }
  const countRaw = values.get('_count')?.[0];
  const count = countRaw === undefined ? 20 : Number(countRaw);
  if (!Number.isInteger(count) || count < 1 || count > 100) throw invalid('_count must be an integer from 1 to 100');
  const sort = values.get('_sort')?.[0];
  if (sort !== undefined && sort !== 'date' && sort !== '-date') throw notSupported('_sort supports date and -date');
  const cursorRaw = values.get(CURSOR_PARAM)?.[0];
  return {
    get: (name) => values.get(name)?.[0],
    count,
    sort: sort as SearchQuery['sort'],
    cursor: cursorRaw === undefined ? undefined : decodeCursor(cursorRaw),
    dates: dateBounds(values.get('date') ?? []),
    given,
  };
}
