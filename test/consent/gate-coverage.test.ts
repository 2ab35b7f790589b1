/**
 * Every field of every subgraph is gated: each declares what it is, and a field without
 * a declaration is refused — proved by removing one and watching it fail closed.
 */
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { ResolverMap } from '../../common/resolver-map';
import { GraphQLError, isObjectType, parse } from 'graphql';
import { readSubgraphSdl } from '../../common/paths';
import { SUBGRAPHS } from '../../subgraphs';
import { gateSchema, type AccessRules } from '../../subgraphs/kit/gate';

const build = (name: keyof typeof SUBGRAPHS) =>
  buildSubgraphSchema({ typeDefs: parse(readSubgraphSdl(name)), resolvers: SUBGRAPHS[name].resolvers as ResolverMap<unknown> });

describe.each(Object.keys(SUBGRAPHS) as (keyof typeof SUBGRAPHS)[])('the %s subgraph', (name) => {
  test('declares a data category (or PUBLIC / VIA_PARENT) for every field and every entity reference', () => {
    const schema = build(name);
    const wrapped = gateSchema(schema, SUBGRAPHS[name].access);
    const undeclared = [...wrapped.entries()].filter(([, d]) => d === undefined).map(([f]) => f);
    expect(undeclared).toEqual([]);
    // Every object field of the schema went through the gate, not just the declared ones.
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.keys(type.getFields())) expect(wrapped.has(`${type.name}.${field}`)).toBe(true);
      if ((type as unknown as { resolveReference?: unknown }).resolveReference) expect(wrapped.has(`${type.name}.__resolveReference`)).toBe(true);
    }
  });

  test('a field whose declaration is removed is refused, whoever asks', async () => {
    const rules: AccessRules = SUBGRAPHS[name].access;
    const schema = build(name);
    const [typeName, typeRules] = Object.entries(rules).find(([t, r]) => t !== 'Query' && Object.keys(r.fields).length > 0)!;
    const [fieldName] = Object.keys(typeRules.fields);
    const stripped: AccessRules = { ...rules, [typeName]: { ...typeRules, fields: Object.fromEntries(Object.entries(typeRules.fields).filter(([f]) => f !== fieldName)) } };
    const wrapped = gateSchema(schema, stripped);
    expect(wrapped.get(`${typeName}.${fieldName}`)).toBeUndefined();
    const type = schema.getType(typeName);
    if (!isObjectType(type)) throw new Error('not an object type');
    const resolve = type.getFields()[fieldName!]!.resolve!;
    let error: unknown;
    try {
      await resolve({ id: 'x', patientId: 'x' }, {}, {} as never, {} as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions.code).toBe('FORBIDDEN');
  });
});
