/**
 * The SDL enums say the same words as the declarations they stand for: every enum named
 * below, in every subgraph schema, the accounts schema and the composed supergraph, has
 * exactly the declared values, in the declared order. A drift names the file and the
 * missing or extra value. The portal's generated copy of the vocabulary is checked too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Kind, parse } from 'graphql';
import { ROLES, SCOPES } from '../../common/signed-identity';
import { projectRoot } from '../../common/paths';
import { ACTIONS, CATEGORIES, PURPOSES } from '../../consent/vocabulary';
import { PORTAL_VOCABULARY_PATH, portalVocabularyModule } from '../../web/portal-vocabulary';

const upper = (values: readonly string[]) => values.map((v) => v.toUpperCase());

/** SDL enum → the values its declaration gives it (SDL enum values are upper case by convention). */
const DECLARED: Record<string, readonly string[]> = {
  DataCategory: CATEGORIES,
  ConsentAction: upper(ACTIONS),
  PurposeOfUse: PURPOSES,
  Role: upper(ROLES),
  TokenScope: upper(SCOPES),
};

/** How each enum of `sdl` named in `declared` differs from its declaration, in words naming `file` and the value. */
function enumDrift(file: string, sdl: string, declared: Record<string, readonly string[]>): string[] {
  const drift: string[] = [];
  for (const def of parse(sdl).definitions) {
    if (def.kind !== Kind.ENUM_TYPE_DEFINITION || !(def.name.value in declared)) continue;
    const name = def.name.value;
    const want = declared[name]!;
    const have = (def.values ?? []).map((v) => v.name.value);
    const lacks = want.filter((v) => !have.includes(v)).map((v) => `${file}: enum ${name} lacks ${v}`);
    const extra = have.filter((v) => !want.includes(v)).map((v) => `${file}: enum ${name} has ${v}, which is not declared`);
    drift.push(...lacks, ...extra);
    // Same values in another order: the declaration also fixes the order introspection shows.
    if (!lacks.length && !extra.length && have.join() !== want.join()) drift.push(`${file}: enum ${name} lists ${have.join(', ')}; declared order is ${want.join(', ')}`);
  }
  return drift;
}

const enumsOf = (sdl: string) => parse(sdl).definitions.flatMap((d) => (d.kind === Kind.ENUM_TYPE_DEFINITION ? [d.name.value] : []));

const root = projectRoot();
const schemaFiles = [
  ...fs
    .readdirSync(path.join(root, 'subgraphs'))
    .map((dir) => path.join('subgraphs', dir, 'schema.graphql'))
    .filter((file) => fs.existsSync(path.join(root, file))),
  path.join('gateway', 'accounts', 'schema.graphql'),
  'supergraph.graphql',
];
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

test('the schemas read are the five subgraphs, accounts and the supergraph', () => {
  expect(schemaFiles).toHaveLength(7);
});

test.each(schemaFiles)('%s: every vocabulary enum has exactly the declared values, in order', (file) => {
  expect(enumDrift(file, read(file), DECLARED)).toEqual([]);
});

test('every vocabulary enum is in the supergraph, so none escapes the check by a rename', () => {
  expect(Object.keys(DECLARED).filter((name) => !enumsOf(read('supergraph.graphql')).includes(name))).toEqual([]);
});

describe('a drift is reported with its file and value', () => {
  const declared = { DataCategory: ['DEMOGRAPHICS', 'LABS'] };
  test('a missing value', () => {
    expect(enumDrift('x.graphql', 'enum DataCategory { DEMOGRAPHICS }', declared)).toEqual(['x.graphql: enum DataCategory lacks LABS']);
  });
  test('an extra value', () => {
    expect(enumDrift('x.graphql', 'enum DataCategory { DEMOGRAPHICS LABS GENOMICS }', declared)).toEqual([
      'x.graphql: enum DataCategory has GENOMICS, which is not declared',
    ]);
  });
  test('the same values out of order', () => {
    expect(enumDrift('x.graphql', 'enum DataCategory { LABS DEMOGRAPHICS }', declared)).toEqual([
      'x.graphql: enum DataCategory lists LABS, DEMOGRAPHICS; declared order is DEMOGRAPHICS, LABS',
    ]);
  });
});

test('the portal vocabulary (web/public/js/vocabulary.js) is generated from the declaration (run `npm run compose`)', () => {
  expect(fs.readFileSync(PORTAL_VOCABULARY_PATH, 'utf8')).toBe(portalVocabularyModule());
});
