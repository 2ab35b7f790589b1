import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkSubgraphs, healthUrl } from '../../gateway/health';
import { freePort } from '../../common/ports';

test('health URLs sit beside the GraphQL endpoint', () => {
  expect(healthUrl('http://127.0.0.1:4001/graphql')).toBe('http://127.0.0.1:4001/healthz');
});

test('the hub is degraded when one subgraph is down or failing, and says which', async () => {
  const server = http.createServer((req, res) => {
    res.statusCode = req.url === '/healthz' ? 200 : 404;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const up = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const failing = http.createServer((_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
  const sick = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/graphql`;
  const down = `http://127.0.0.1:${await freePort()}/graphql`;
  try {
    expect((await checkSubgraphs({ a: up, b: up })).status).toBe('ok');
    const health = await checkSubgraphs({ a: up, b: down, c: sick });
    expect(health.status).toBe('degraded');
    expect(health.subgraphs.a!.status).toBe('up');
    expect(health.subgraphs.b!.status).toBe('down');
    expect(health.subgraphs.c).toMatchObject({ status: 'down', error: 'HTTP 503' });
  } finally {
    server.close();
    failing.close();
  }
});
