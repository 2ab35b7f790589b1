/**
 * Every type, field, argument and enum value a client sees has a description, in the
 * composed supergraph and in each subgraph's own SDL, so codegen and GraphiQL show what
 * each is. A new undocumented one fails here, named.
 */
import fs from 'node:fs';
import { SUBGRAPH_NAMES } from '../../common/config';
import { readSubgraphSdl } from '../../common/paths';
import { ACCOUNTS_SDL_PATH, readSupergraph } from '../../gateway/compose';
import { schemaOf, undocumented } from '../support/schema-descriptions';

const subgraphs: [string, string][] = [...SUBGRAPH_NAMES.map((name): [string, string] => [name, readSubgraphSdl(name)]), ['accounts', fs.readFileSync(ACCOUNTS_SDL_PATH, 'utf8')]];

test('the composed supergraph documents everything a client sees', () => {
  expect(undocumented(schemaOf(readSupergraph()))).toEqual([]);
});

test.each(subgraphs)('the %s subgraph documents every type, field, argument and enum value', (_name, sdl) => {
  expect(undocumented(schemaOf(sdl))).toEqual([]);
});

describe('the check itself', () => {
  test('names each undocumented type, field, argument, input field and enum value', () => {
    const sdl = `
      "Documented."
      type Query {
        "Documented."
        ok("Documented." id: ID!): Thing
        bare(id: ID!, "Documented." q: String): Thing
      }
      type Thing { "Documented." id: ID! name: String }
      "Documented."
      enum Colour { "Documented." RED GREEN }
      "Documented."
      input Filter { "Documented." a: Int b: Int }
      scalar Instant
    `;
    expect(undocumented(schemaOf(sdl))).toEqual([
      'Colour.GREEN',
      'Filter.b',
      'Instant',
      'Query.bare',
      'Query.bare(id:)',
      'Thing',
      'Thing.name',
    ]);
  });

  test('a blank description is no description', () => {
    expect(undocumented(schemaOf('"  " type Query { "x" a: Int }'))).toEqual(['Query']);
  });

  test('a new undocumented field in the real supergraph is caught', () => {
    const sdl = readSupergraph() + '\nextend type Query { secret(code: String): String }\n';
    expect(undocumented(schemaOf(sdl))).toEqual(['Query.secret', 'Query.secret(code:)']);
  });

  test('skips only built-ins, Federation internals and @inaccessible elements', () => {
    const sdl = `
      directive @inaccessible on FIELD_DEFINITION
      "x" type Query { "x" a: String _entities: [_Entity] _service: _Service hidden: Int @inaccessible }
      union _Entity = Query
      type _Service { sdl: String }
      scalar _Any
      enum join__Graph { A }
      scalar link__Import
      type NotInternal_join__ { v: Int }
    `;
    expect(undocumented(schemaOf(sdl))).toEqual(['NotInternal_join__', 'NotInternal_join__.v']);
  });
});
