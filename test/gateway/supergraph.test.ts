import { composeSupergraph, readSupergraph } from '../../gateway/compose';

test('the checked-in supergraph.graphql matches the subgraph schemas (run `npm run compose`)', () => {
  expect(readSupergraph()).toBe(composeSupergraph());
});
