/**
 * Label values stay bounded whatever a client sends: operation names (client-chosen) and
 * error codes (a subgraph's) never become an unbounded set of series.
 */
import { register } from 'prom-client';
import { metrics } from '../../common/metrics';
import { OperationNames } from '../../common/metrics/operations';
import { counterValue } from '../support/metrics';

test('an operation is labelled by its name, or anonymous, or invalid; never by its text', () => {
  const names = new OperationNames();
  expect(names.label({ query: '{ me { username } }' }, true)).toBe('anonymous');
  expect(names.label({ query: 'query Mine { me { username } }' }, true)).toBe('Mine');
  expect(names.label({ query: '{ a }', operationName: 'Chosen' }, true)).toBe('Chosen');
  expect(names.label({ query: 'query X { a }', operationName: 'pat_12345; DROP TABLE' }, true)).toBe('invalid');
  expect(names.label({ operationName: 'x'.repeat(65) }, true)).toBe('invalid');
  expect(names.label('not a body', true)).toBe('anonymous');
  expect(names.label(undefined, true)).toBe('anonymous');
});

test('past the budget of names, and for callers nobody identified, new names are "other"', () => {
  const names = new OperationNames(3);
  expect(names.label({ operationName: 'Stranger' }, false)).toBe('other');
  for (const n of ['A', 'B', 'C']) expect(names.label({ operationName: n }, true)).toBe(n);
  expect(names.label({ operationName: 'D' }, true)).toBe('other');
  // Known names keep their label, whoever sends them.
  expect(names.label({ operationName: 'B' }, false)).toBe('B');
  const flood = new Set(Array.from({ length: 1000 }, (_, i) => names.label({ operationName: `Op${i}` }, true)));
  expect([...flood]).toEqual(['other']);
});

test('errors are counted by code; a code that is not a plain word is OTHER; a limit refusal also by its limit', async () => {
  const before = await register.metrics();
  metrics.graphqlErrors([
    { extensions: { code: 'FORBIDDEN' } },
    { extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'cost' } },
    { extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'something a client made up' } },
    { extensions: { code: 'lower case <script>' } },
    { extensions: {} },
  ]);
  const after = await register.metrics();
  const delta = (name: string, labels: Record<string, string>) => counterValue(after, name, labels) - counterValue(before, name, labels);
  expect(delta('custodian_graphql_errors_total', { code: 'FORBIDDEN' })).toBe(1);
  expect(delta('custodian_graphql_errors_total', { code: 'QUERY_TOO_COMPLEX' })).toBe(2);
  expect(delta('custodian_graphql_errors_total', { code: 'OTHER' })).toBe(1);
  expect(delta('custodian_graphql_errors_total', { code: 'NONE' })).toBe(1);
  expect(delta('custodian_operation_limit_refusals_total', { limit: 'cost' })).toBe(1);
  expect(delta('custodian_operation_limit_refusals_total', { limit: 'other' })).toBe(1);
  expect(after).not.toContain('script');
});
