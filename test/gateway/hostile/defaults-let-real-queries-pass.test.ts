/**
 * The default limits must refuse attacks, not users. This walks every GraphQL operation
 * the web portal sends (read out of web/public/js/**, including the cohort query
 * it builds at run time, at its largest) and the ones the README and `npm start` show,
 * sends each to a real gateway running with the defaults, and checks that no limit
 * refused it — and how far each stays under the cost limit. (The rest of the suite
 * sends its own queries through the same defaults.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildSchema, getOperationAST, parse } from 'graphql';
import { readEnv } from '../../../common/config';
import { projectRoot } from '../../../common/paths';
import { readSupergraph } from '../../../gateway/compose';
import { estimateCost } from '../../../gateway/runtime/limits/cost';
import { supergraphOwnership } from '../../../gateway/runtime/limits/ownership';
import { gql } from '../../support/graphql';
import { startGatewayHub, type GatewayHub } from '../../support/gateway-hub';

const PORTAL = path.join(projectRoot(), 'web', 'public', 'js');

function jsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsFiles(path.join(dir, e.name)) : e.name.endsWith('.js') ? [path.join(dir, e.name)] : []));
}

/** Every literal GraphQL operation in the portal's code: `query …` / `mutation …` strings. */
function portalOperations(): { where: string; source: string }[] {
  const found: { where: string; source: string }[] = [];
  for (const file of jsFiles(PORTAL)) {
    const code = fs.readFileSync(file, 'utf8');
    for (const m of code.matchAll(/([`'])((?:query|mutation)\b[^`']*?\})\1/g)) {
      if (m[2]!.includes('${')) continue; // built at run time: see cohortQuery()
      found.push({ where: path.relative(projectRoot(), file), source: m[2]! });
    }
  }
  return found;
}

/** The research view's cohort query, built as the page builds it, with as many projects as one request takes. */
function cohortQuery(): { where: string; source: string } {
  const file = path.join(PORTAL, 'views', 'research.js');
  const code = fs.readFileSync(file, 'utf8');
  const perRequest = Number(/COHORTS_PER_REQUEST = (\d+)/.exec(code)![1]);
  const alias = /`(p\$\{i\}: cohortSummary\(projectId: \$\{JSON\.stringify\(p\.id\)\}[^`]*)`/.exec(code)![1]!;
  const wrapper = /`(query Cohorts\(\$loinc: String!\) \{ )\$\{chunk\.join\('\\n'\)\}( \})`/.exec(code)!;
  const aliases = Array.from({ length: perRequest }, (_, i) => alias.replace('${i}', String(i)).replace('${JSON.stringify(p.id)}', JSON.stringify(`prj_${i}`)));
  return { where: 'web/public/js/views/research.js (built)', source: wrapper[1] + aliases.join('\n') + wrapper[2] };
}

/** The README's curl example and the one `npm start` prints. */
function documentedOperations(): { where: string; source: string }[] {
  const readme = fs.readFileSync(path.join(projectRoot(), 'README.md'), 'utf8');
  const curl = /-d '\{"query":\s*"([^"]+)"\}'/.exec(readme)!;
  const start = fs.readFileSync(path.join(projectRoot(), 'cli', 'start.ts'), 'utf8');
  const banner = /-d '\{"query":"([^"]+)"\}'/.exec(start)!;
  return [
    { where: 'README.md', source: curl[1]! },
    { where: 'cli/start.ts', source: banner[1]! },
  ];
}

const operations = [...portalOperations(), cohortQuery(), ...documentedOperations()];

let hub: GatewayHub;
let tokens: Record<string, string>;

beforeAll(async () => {
  hub = await startGatewayHub(); // no overrides: the defaults
  tokens = {};
  for (const role of ['patient', 'clinician', 'researcher', 'compliance'] as const) tokens[role] = (await hub.token({ role })).token;
}, 120_000);
afterAll(async () => hub?.close());

test('the walk finds the portal’s operations', () => {
  // Sign-in, the record, clinicians, patients, research and compliance views.
  expect(operations.length).toBeGreaterThanOrEqual(16);
  for (const op of operations) expect(() => parse(op.source)).not.toThrow();
});

test('every one stays under every default limit, through a real gateway', async () => {
  const defaults = readEnv({});
  const supergraph = readSupergraph();
  const ownership = supergraphOwnership(supergraph);
  // The supergraph's types and arguments, as the gateway's schema has them.
  const schema = buildSchema(supergraph, { assumeValidSDL: true });
  const refusals: string[] = [];
  const report: string[] = [];
  for (const op of operations) {
    // Whoever sends it; variables left out: the limits are checked before variables are,
    // so nothing here runs a mutation (its required variables are missing).
    for (const [role, token] of Object.entries(tokens)) {
      const purpose: Record<string, string> = role === 'compliance' ? { 'x-purpose-of-use': 'OPERATIONS' } : role === 'researcher' ? { 'x-purpose-of-use': 'RESEARCH' } : {};
      const res = await gql(`${hub.gateway.url}/graphql`, op.source, undefined, { authorization: `Bearer ${token}`, ...purpose });
      for (const e of res.errors ?? []) {
        if (e.extensions?.code === 'QUERY_TOO_COMPLEX' || e.extensions?.code === 'OPERATION_NOT_SUPPORTED') refusals.push(`${op.where} as ${role}: ${e.message}`);
      }
    }
    const document = parse(op.source);
    const { rows, fields } = estimateCost({ schema, document, operation: getOperationAST(document)!, variables: {}, ownership });
    report.push(`${rows}\t${fields}\t${op.where}`);
    expect(rows).toBeLessThanOrEqual(defaults.MAX_QUERY_COST);
  }
  expect(refusals).toEqual([]);
  // The largest estimate among them, for the README's account of the defaults.
  process.stdout.write(`estimated rows / fields of the portal's and README's operations:\n${report.sort((a, b) => Number(b.split('\t')[0]) - Number(a.split('\t')[0])).join('\n')}\n`);
});

