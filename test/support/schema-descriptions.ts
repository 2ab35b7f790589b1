/**
 * Finds what a schema leaves undocumented: every named type, field, argument, input
 * field and enum value without a description, named as a client developer would look
 * it up (`Type`, `Type.field`, `Type.field(arg:)`, `Enum.VALUE`).
 *
 * Excluded, explicitly: graphql-js's built-in scalars and introspection types, and what
 * Federation itself adds to a supergraph (join__*, link__*, federation__*, _Entity,
 * _Service, _Any, _entities, _service) — nothing a client calls or we write. Elements
 * marked @inaccessible are not in the API schema, so they are skipped too.
 */
import {
  buildASTSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isSpecifiedScalarType,
  parse,
  type GraphQLArgument,
  type GraphQLEnumValue,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';

const FEDERATION_PREFIXES = ['join__', 'link__', 'federation__'];
const FEDERATION_NAMES = new Set(['_Entity', '_Service', '_Any', '_FieldSet', 'FieldSet', '_entities', '_service']);

const isFederationInternal = (name: string) => FEDERATION_NAMES.has(name) || FEDERATION_PREFIXES.some((p) => name.startsWith(p));

type Element = GraphQLNamedType | GraphQLField<unknown, unknown> | GraphQLArgument | GraphQLInputField | GraphQLEnumValue;

function inaccessible(element: Element): boolean {
  return (element.astNode?.directives ?? []).some((d) => d.name.value === 'inaccessible');
}

const described = (element: Element) => typeof element.description === 'string' && element.description.trim() !== '';

/** Names of every undocumented element of `schema`, sorted. */
export function undocumented(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  const check = (element: Element, name: string) => {
    if (!described(element)) missing.push(name);
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type) || isSpecifiedScalarType(type) || isFederationInternal(type.name) || inaccessible(type)) continue;
    check(type, type.name);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (isFederationInternal(field.name) || inaccessible(field)) continue;
        check(field, `${type.name}.${field.name}`);
        for (const arg of field.args) if (!inaccessible(arg)) check(arg, `${type.name}.${field.name}(${arg.name}:)`);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) if (!inaccessible(field)) check(field, `${type.name}.${field.name}`);
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) if (!inaccessible(value)) check(value, `${type.name}.${value.name}`);
    }
  }
  return missing.sort();
}

/**
 * A schema from SDL as written — a subgraph's (whose Federation directives are not
 * declared in it) or the supergraph — without validating the directives it uses.
 */
export function schemaOf(sdl: string): GraphQLSchema {
  return buildASTSchema(parse(sdl), { assumeValidSDL: true });
}
