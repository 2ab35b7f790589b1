/**
 * The portal's copy of the consent vocabulary, generated from consent/vocabulary.ts.
 *
 * The portal is plain ES modules served as files (router.ts), so it cannot import the
 * TypeScript declaration; it imports `web/public/js/vocabulary.js`, which this module
 * writes. Like `supergraph.graphql`, the file is checked in, and a test
 * (test/consent/vocabulary.test.ts) fails when it is stale.
 *
 *   node dist/web/portal-vocabulary.js --write   rewrite web/public/js/vocabulary.js
 *   node dist/web/portal-vocabulary.js --check   exit 1 if it is stale
 */
import fs from 'node:fs';
import path from 'node:path';
import { CATEGORIES, CATEGORY_TRAITS, GRANTABLE } from '../consent/vocabulary';
import { WEB_ROOT } from './router';
import { writeOrCheck } from '../common/generated-file';

export const PORTAL_VOCABULARY_PATH = path.join(WEB_ROOT, 'js', 'vocabulary.js');

export function portalVocabularyModule(): string {
  const labels = Object.fromEntries(CATEGORIES.map((c) => [c, CATEGORY_TRAITS[c].label]));
  return [
    '// @ts-check',
    '/**',
    ' * The data categories as the portal shows them. GENERATED from consent/vocabulary.ts by',
    ' * web/portal-vocabulary.ts: do not edit; run `node dist/web/portal-vocabulary.js --write`.',
    ' */',
    '',
    '/** Every data category, in declaration order. */',
    `export const CATEGORIES = ${JSON.stringify(CATEGORIES)};`,
    '',
    '/** The categories a patient can grant (or refuse) by consent. */',
    `export const GRANTABLE = ${JSON.stringify(GRANTABLE)};`,
    '',
    '/** How the portal names each category. */',
    `export const CATEGORY_LABEL = /** @type {Record<string, string>} */ (${JSON.stringify(labels, null, 2)});`,
    '',
  ].join('\n');
}

if (require.main === module) {
  writeOrCheck(PORTAL_VOCABULARY_PATH, portalVocabularyModule(), process.argv[2] ?? '--write', 'npm run compose');
}
