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
 *
 * A type that is a row of patient data (a lab result, a device) declares its row rule
 * (rows.ts): every field of that category then also checks that THIS row is visible —
 * a consent's exceptions included — so a row reached by reference or through a mutation's
 * payload obeys the same rule as one in a list; and its `__resolveReference` answers a
 * hidden row exactly as an unknown one (NOT_FOUND).
 *
 * Every ID and String argument is held to its maximum length (common/input-limits.ts)
 * before any resolver runs.
 */
import { defaultFieldResolver, GraphQLError, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { argumentLimits } from '../../common/input-limits';
import type { PrincipalScope } from '../../consent/principals';
import type { Action, Category } from '../../consent/vocabulary';
import type { SubgraphContext } from './context';
import { hiddenRow, knownVisible, visible, type RowRule } from './rows';

export type Declaration = Category | 'PUBLIC' | 'VIA_PARENT';

export interface FieldRule {
  category: Category;
  action?: Action;
  /** Where the patient comes from, when not the type's `patientOf` (e.g. a root field's argument, or a row to look up). */
  patient?: (parent: any, args: any, ctx: SubgraphContext) => string | null | undefined | Promise<string | null | undefined>;
  /**
   * For a field that addresses a row by id (`revokeConsent(id)`): the error for a row
   * that is unknown OR denied — one answer for both, so the field reveals nothing.
   */
  hidden?: (args: any) => GraphQLError;
  /**
   * The context the decision is made in, when not the requester's every principal: a
   * research project's (`{ project }`), so that a series read through a project is
   * decided as that project's (ConsentEngine.decideInProject) and recorded with it.
   */
  scope?: (parent: any) => PrincipalScope;
}

export interface TypeRules {
  /** The patient a value of this type is about. */
  patientOf?: (value: any) => string | null | undefined;
  /** A row of patient data: its one visibility rule (rows.ts). */
  row?: RowRule<any>;
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
  row: RowRule<any> | undefined,
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
  // This field is part of a row of patient data: it is served only if the row is visible.
  const rowRule = row && row.category === rule.category && action === 'read' && !rule.patient && !rule.scope ? row : undefined;
  return (source, args, ctx, info) => {
    const patient = rule.patient ? rule.patient(source, args, ctx) : patientOf?.(source);
    if (patient instanceof Promise) {
      return patient.then((id) => {
        if (!id && rule.hidden) throw rule.hidden(args);
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
    // Neither the patient's id nor what decided goes into the error: the caller may not
    // know whose row it is, and an unknown patient must look like a hidden one (a denial
    // naming its consent would tell them apart). explainAccess says why, to those who
    // may reach the patient.
    const deny = () =>
      rule_.hidden
        ? rule_.hidden(args)
        : forbidden(`No consent covers ${rule_.category} of this patient for ${ctx.identity.purpose}`, {
            category: rule_.category,
            purpose: ctx.identity.purpose,
          });
    const rowHidden = () => forbidden(`This ${typeName} is outside what the patient's consent shows you`, { category: rule_.category, purpose: ctx.identity.purpose });
    const scope = rule_.scope?.(source) ?? 'all';
    const known = ctx.access.known(patientId, rule_.category, action, scope);
    if (known) {
      if (!known.allowed) throw deny();
      if (rowRule && !knownVisible(ctx, rowRule, source)) throw rowHidden();
      return resolve(source, args, ctx, info);
    }
    return ctx.access.check(patientId, rule_.category, action, scope).then((d) => {
      if (!d.allowed) throw deny();
      if (rowRule && !knownVisible(ctx, rowRule, source)) throw rowHidden();
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
      const gated = guard(type.name, field.name, declaration, typeRules?.patientOf, typeRules?.row, (field.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, SubgraphContext>);
      const limits = argumentLimits(type.name, field.name, field.args);
      field.resolve = limits
        ? (source, args, ctx, info) => {
            limits(args);
            return gated(source, args, ctx, info);
          }
        : gated;
      wrapped.set(`${type.name}.${field.name}`, declaration);
    }
    const withReference = type as unknown as { resolveReference?: (ref: unknown, ctx: SubgraphContext, info: unknown) => unknown };
    if (withReference.resolveReference || typeRules?.reference) {
      const original = withReference.resolveReference ?? ((ref: unknown) => ref);
      const row = typeRules?.row;
      // A row by reference: unknown and hidden both NOT_FOUND, before any field is read.
      const load = row
        ? async (ref: { id: string }, ctx: SubgraphContext, info: unknown) => {
            const found = await original(ref, ctx, info);
            if (!found || !(await visible(ctx, row, found))) throw hiddenRow(row, ref.id);
            return found;
          }
        : original;
      const gated = guard(type.name, '__resolveReference', typeRules?.reference, typeRules?.patientOf, undefined, (source, _args, ctx, info) => load(source as { id: string }, ctx, info));
      withReference.resolveReference = (ref, ctx, info) => gated(ref, {}, ctx, info);
      wrapped.set(`${type.name}.__resolveReference`, typeRules?.reference);
    }
  }
  return wrapped;
}
