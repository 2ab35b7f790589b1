/**
 * Scalars shared by every subgraph (each declares them in its SDL; composition merges
 * identical scalars). Invalid input is a BAD_USER_INPUT, not a generic failure — and a
 * day that is not on the calendar (2026-02-30) is invalid, not quietly 2 March.
 */
import { GraphQLScalarType, Kind } from 'graphql';
import { badInput } from './errors';

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Whether year-month-day is a day of the calendar. The fields are checked one by one
 * because JavaScript's Date rolls an impossible day over into the next month
 * (`new Date('2026-02-30')` is 2 March) instead of refusing it.
 */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

const outOfRange = (value: string | undefined, max: number) => value !== undefined && Number(value) > max;

function parseInstant(value: unknown): Date {
  const match = typeof value === 'string' ? ISO_INSTANT.exec(value) : null;
  if (!match) {
    throw badInput(`DateTime must be an ISO-8601 instant with a time zone, e.g. 2026-01-31T08:00:00Z; got ${JSON.stringify(value)}`);
  }
  const [, y, mo, d, h, mi, sec, , offH, offM] = match;
  const real =
    isCalendarDate(Number(y), Number(mo), Number(d)) &&
    !outOfRange(h, 23) && !outOfRange(mi, 59) && !outOfRange(sec, 59) && !outOfRange(offH, 23) && !outOfRange(offM, 59);
  const date = new Date(value as string);
  if (!real || Number.isNaN(date.getTime())) throw badInput(`Not a real instant: ${JSON.stringify(value)}`);
  return date;
}

export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An instant, ISO-8601 with a time zone (UTC on output), e.g. 2026-01-31T08:00:00.000Z',
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'string') return new Date(value).toISOString();
    throw new TypeError('DateTime cannot represent ' + typeof value);
  },
  parseValue: parseInstant,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw badInput('DateTime must be a string');
    return parseInstant(ast.value);
  },
});

function parseDate(value: unknown): string {
  const match = typeof value === 'string' ? ISO_DATE.exec(value) : null;
  if (!match || !isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]))) {
    throw badInput(`Date must be a calendar date, YYYY-MM-DD; got ${JSON.stringify(value)}`);
  }
  return value as string;
}

export const CalendarDate = new GraphQLScalarType({
  name: 'Date',
  description: 'A calendar date, YYYY-MM-DD',
  serialize: (value) => String(value),
  parseValue: parseDate,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw badInput('Date must be a string');
    return parseDate(ast.value);
  },
});
