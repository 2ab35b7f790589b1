/**
 * Event kinds are declared once (ledger/core/events.ts). The compiler ties writers to the
 * declaration; this ties the places the compiler cannot see: the audit schema's
 * documentation of `kind`, and the portal's list of kinds to filter by.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EVENT_KINDS } from '../../../ledger/core/events';

const root = path.resolve(__dirname, '../../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

test('kinds are unique dotted tokens, as the audit trail\'s `kind` filter accepts them', () => {
  expect(new Set(EVENT_KINDS).size).toBe(EVENT_KINDS.length);
  for (const kind of EVENT_KINDS) expect(kind).toMatch(/^[a-z][a-z0-9._-]{0,63}$/);
});

test('the portal offers exactly the declared kinds in the audit trail filter', () => {
  const list = /h\('datalist', \{ id: 'event-kinds' \}, \[([^\]]*)\]/.exec(read('web/public/js/views/compliance.js'));
  expect(list).not.toBeNull();
  const offered = [...list![1]!.matchAll(/'([^']+)'/g)].map((m) => m[1]);
  expect(offered).toEqual([...EVENT_KINDS]);
});

test('the audit schema names declared kinds only: `kind` is a String there, with no enum to drift', () => {
  const schema = read('subgraphs/audit/schema.graphql');
  expect(schema).not.toMatch(/enum\s+\w*Kind\b/);
  const documented = /"e\.g\. ([^"]+)"\s*\n\s*kind: String!/.exec(schema)![1]!.split(', ');
  for (const kind of documented) expect(EVENT_KINDS).toContain(kind);
});
