/**
 * How long a client's text may be. Every `ID` and `String` argument of every field —
 * nested input fields included — is checked against these before its resolver runs,
 * and a longer one is refused with BAD_USER_INPUT naming the argument and the limit.
 * Nothing unbounded reaches a database column or an outbox payload.
 *
 * The limits are part of the API: each SDL description that takes longer text says so,
 * and the README lists them.
 */
import { GraphQLError, getNamedType, getNullableType, isInputObjectType, isListType, isScalarType, type GraphQLArgument, type GraphQLInputType } from 'graphql';

/** Every id the hub makes is far shorter (`pat_` + 20 hex); 64 leaves room for grantee ids (`clinician@inst_…`). */
export const MAX_ID_LENGTH = 64;
/** Any other string argument, unless listed below. */
export const MAX_TEXT_LENGTH = 200;

/** Longer (or tighter) limits, by `Type.field.argument[.inputField…]`. */
export const TEXT_LIMITS: Readonly<Record<string, number>> = {
  'Mutation.breakTheGlass.justification': 2000,
  'Mutation.reviewBreakGlass.note': 2000,
  'Mutation.registerDevice.input.model': 100,
  'Mutation.registerDevice.input.serial': 64,
};

type Check = (value: unknown) => void;

function limitOf(path: string, scalar: string): number | null {
  if (path in TEXT_LIMITS) return TEXT_LIMITS[path]!;
  if (scalar === 'ID') return MAX_ID_LENGTH;
  if (scalar === 'String') return MAX_TEXT_LENGTH;
  return null;
}

function tooLong(path: string, limit: number): GraphQLError {
  const name = path.split('.').slice(2).join('.');
  return new GraphQLError(`${name} is longer than ${limit} characters`, { extensions: { code: 'BAD_USER_INPUT', field: name, maxLength: limit } });
}

/** A checker for values of `type` at `path`, or null when nothing under it is text. */
function checkerFor(type: GraphQLInputType, path: string, seen: Set<string>): Check | null {
  const inner = getNullableType(type);
  if (isListType(inner)) {
    const each = checkerFor(inner.ofType, path, seen);
    return each ? (v) => Array.isArray(v) && v.forEach(each) : null;
  }
  const named = getNamedType(inner);
  if (isScalarType(named)) {
    const limit = limitOf(path, named.name);
    if (limit === null) return null;
    return (v) => {
      if (typeof v === 'string' && v.length > limit) throw tooLong(path, limit);
    };
  }
  if (isInputObjectType(named)) {
    if (seen.has(named.name)) return null; // recursive inputs: the outer level is checked
    const nested = new Set(seen).add(named.name);
    const fields = Object.values(named.getFields())
      .map((f) => [f.name, checkerFor(f.type, `${path}.${f.name}`, nested)] as const)
      .filter((e): e is readonly [string, Check] => e[1] !== null);
    if (!fields.length) return null;
    return (v) => {
      if (v && typeof v === 'object') for (const [name, check] of fields) check((v as Record<string, unknown>)[name]);
    };
  }
  return null;
}

/** A checker for the arguments of `Type.field`, or null when it takes no text. */
export function argumentLimits(typeName: string, fieldName: string, args: readonly GraphQLArgument[]): ((args: Record<string, unknown>) => void) | null {
  const checks = args
    .map((a) => [a.name, checkerFor(a.type, `${typeName}.${fieldName}.${a.name}`, new Set())] as const)
    .filter((e): e is readonly [string, Check] => e[1] !== null);
  if (!checks.length) return null;
  return (values) => {
    for (const [name, check] of checks) check(values[name]);
  };
}
