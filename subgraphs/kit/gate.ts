/**
 * The consent gate. Every field resolver of a subgraph schema — every field of every
 * object type, `__resolveReference` included — is wrapped here, after the schema is
 * built. Each field must declare what it is (access rules, beside each subgraph's
 * resolvers):
 *
 *   a Category      patient data: the gate asks the consent engine for the patient the
 *                   type's rules name, and refuses with a typed FORBIDDEN if denied
 *   'PUBLIC'        no patient data (an institution's name)
 *   'VIA_PARENT'    a value inside patient data that a gated field already returned
 *                   (a HumanName, a connection's edges)
 *
 * A field with no declaration is denied, always: the gate fails closed.
 */
import { defaultFieldResolver, GraphQLError, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { Action, Category } from '../../policies/vocabulary';
import type { SubgraphContext } from './context';

export type Declaration = Category | 'PUBLIC' | 'VIA_PARENT';

export interface FieldRule {
  category: Category;
  action?: Action;
  /** Where the patient comes from, when not the type's `patientOf` (e.g. a root field's argument, or a row to look up). */
  patient?: (parent: any, args: any, ctx: SubgraphContext) => string | null | undefined | Promise<string | null | undefined>;
}

export interface TypeRules {
  /** The patient a value of this type is about. */
  patientOf?: (value: any) => string | null | undefined;
  /** The declaration for `__resolveReference`. */
  reference?: Declaration | FieldRule;
  fields: Record<string, Declaration | FieldRule>;
}

export type AccessRules = Record<string, TypeRules>;

/** Federation's own machinery: `_service` returns the SDL, `_entities` dispatches to gated references. */
const FEDERATION: AccessRules = {
  Query: { fields: { _service: 'PUBLIC', _entities: 'PUBLIC' } },
  _Service: { fields: { sdl: 'PUBLIC' } },
};

export function forbidden(message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN', ...extra } });
}

function normalise(d: Declaration | FieldRule | undefined): FieldRule | 'PUBLIC' | 'VIA_PARENT' | undefined {
  if (d === undefined || d === 'PUBLIC' || d === 'VIA_PARENT') return d;
  return typeof d === 'string' ? { category: d } : d;
}

function guard<TSource>(
  typeName: string,
  fieldName: string,
  declaration: Declaration | FieldRule | undefined,
  patientOf: TypeRules['patientOf'],
  resolve: (source: TSource, args: any, ctx: SubgraphContext, info: any) => unknown,
): (source: TSource, args: any, ctx: SubgraphContext, info: any) => unknown {
  const rule = normalise(declaration);
  if (rule === undefined) {
    return () => {
      throw forbidden(`${typeName}.${fieldName} declares no data category, so it is never served`, { field: `${typeName}.${fieldName}` });
    };
  }
  if (rule === 'PUBLIC' || rule === 'VIA_PARENT') return resolve;
  const action = rule.action ?? 'read';
  return (source, args, ctx, info) => {
    const patient = rule.patient ? rule.patient(source, args, ctx) : patientOf?.(source);
    // A lookup that finds nothing (an unknown device, consent...) is a NOT_FOUND, not a refusal.
    if (patient instanceof Promise) {
      return patient.then((id) => {
        if (!id) throw new GraphQLError(`${typeName}.${fieldName}: not found`, { extensions: { code: 'NOT_FOUND' } });
        return decide(id, source, args, ctx, info);
      });
    }
    return decide(patient, source, args, ctx, info);
  };

  function decide(patientId: string | null | undefined, source: TSource, args: any, ctx: SubgraphContext, info: any): unknown {
    const rule_ = rule as FieldRule;
    if (!patientId) {
      throw forbidden(`${typeName}.${fieldName}: no patient to decide for`, { field: `${typeName}.${fieldName}` });
    }
    const deny = (d: { allowed: boolean; decidedBy: string }) =>
      forbidden(`No consent covers ${rule_.category} of this patient for ${ctx.identity.purpose}`, {
        category: rule_.category,
        patientId,
        purpose: ctx.identity.purpose,
        decidedBy: d.decidedBy,
      });
    const known = ctx.access.known(patientId, rule_.category, action);
    if (known) {
      if (!known.allowed) throw deny(known);
      return resolve(source, args, ctx, info);
    }
    return ctx.access.check(patientId, rule_.category, action).then((d) => {
      if (!d.allowed) throw deny(d);
      return resolve(source, args, ctx, info);
    });
  }
}

/** Wraps every resolver of `schema` in the gate, per `rules`. Returns what it wrapped, for tests. */
export function gateSchema(schema: GraphQLSchema, subgraphRules: AccessRules): Map<string, Declaration | FieldRule | undefined> {
  const rules: AccessRules = { ...subgraphRules, Query: { ...subgraphRules.Query, fields: { ...FEDERATION.Query!.fields, ...subgraphRules.Query?.fields } }, _Service: FEDERATION._Service! };
  const wrapped = new Map<string, Declaration | FieldRule | undefined>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    const typeRules = rules[type.name];
    for (const field of Object.values(type.getFields())) {
      const declaration = typeRules?.fields[field.name];
      field.resolve = guard(type.name, field.name, declaration, typeRules?.patientOf, (field.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, SubgraphContext>);
      wrapped.set(`${type.name}.${field.name}`, declaration);
    }
    const withReference = type as unknown as { resolveReference?: (ref: unknown, ctx: SubgraphContext, info: unknown) => unknown };
    if (withReference.resolveReference || typeRules?.reference) {
      const original = withReference.resolveReference ?? ((ref: unknown) => ref);
      const gated = guard(type.name, '__resolveReference', typeRules?.reference, typeRules?.patientOf, (source, _args, ctx, info) => original(source, ctx, info));
      withReference.resolveReference = (ref, ctx, info) => gated(ref, {}, ctx, info);
      wrapped.set(`${type.name}.__resolveReference`, typeRules?.reference);
    }
  }
  return wrapped;
}
