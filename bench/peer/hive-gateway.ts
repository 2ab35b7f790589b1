/**
 * BENCHMARK PEER ONLY — not a supported deployment of Custodian. Nothing in the hub
 * starts it, nothing but `npm run bench` uses it, and its dependencies are dev-only.
 *
 * A second, independent gateway beside ours for side-by-side numbers: Hive Gateway
 * (@graphql-hive/gateway-runtime with @graphql-mesh/transport-http) serving the same
 * checked-in supergraph.graphql against the same running subgraphs. Run as its own
 * process (`node dist/bench/peer/hive-gateway.js`), as our gateway is, so neither shares
 * an event loop with the load generator.
 *
 * The subgraphs refuse anything without the gateway's identity token, and nothing about
 * them is relaxed for this peer: the plugin below does what gateway/server.ts and
 * gateway/subgraph-client.ts do —
 *  - authenticates the caller's bearer token with gateway/identity/authenticate.ts
 *    (session access token or API token, same identity database, same session key) and
 *    settles the purpose with gateway/identity/purpose.ts;
 *  - checks the token's scopes once per operation (gateway/scopes.ts);
 *  - signs, for every subgraph request, an identity token bound to the digest of the exact
 *    {query, variables} of the body being sent (common/signed-identity.ts), with the gateway's
 *    identity key, and sends the request id along.
 * The accounts subgraph is served by our gateway at /accounts/graphql (the URL the
 * supergraph names) and authenticates the caller's own bearer token, as /graphql does:
 * that token is what it gets.
 *
 * Environment: PORT, HOST, DATA_DIR / DATABASE_URL, <NAME>_URL for each subgraph (as the
 * gateway), and HIVE_PEER_ACCOUNTS_URL (our gateway's /accounts/graphql). Prints
 * `hive peer ready <url>` once it listens.
 */
import 'reflect-metadata';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createGatewayRuntime, type GatewayPlugin } from '@graphql-hive/gateway-runtime';
import httpTransport from '@graphql-mesh/transport-http';
import { GraphQLError, getOperationAST } from 'graphql';
import type { DataSource } from 'typeorm';
import { readEnv, SUBGRAPH_NAMES, subgraphUrl, type SubgraphName } from '../../common/config';
import { operationDigest, signIdentity, type Identity } from '../../common/signed-identity';
import { loadPrivateKey } from '../../common/keys';
import { keepConnectionsLonger, stopOnSignals } from '../../common/lifecycle';
import { projectRoot } from '../../common/paths';
import { readSupergraph } from '../../gateway/compose';
import { identify, type Principal } from '../../gateway/identity/authenticate';
import { InvalidRequestId, requestIds } from '../../gateway/request-id';
import { openIdentityDatabase } from '../../gateway/identity/database';
import { AuthError } from '../../gateway/identity/errors';
import { PURPOSE_HEADER } from '../../gateway/identity/purpose';
import { allows, requiredScope } from '../../gateway/scopes';

const AUTH_STATUS: Record<number, string> = { 400: 'BAD_USER_INPUT', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN' };

/** What the plugin adds to Hive's per-request context. */
interface CustodianContext {
  custodian: { requestId: string; principal: Principal; identity: Identity; authorization: string; purposeHeader: string | null };
}

export interface CustodianPluginOptions {
  db: DataSource;
  sessionPublicKey: KeyObject;
  identityKey: KeyObject;
  /** Requests to this URL (our gateway's /accounts/graphql) carry the caller's own token. */
  accountsUrl: string;
}

function headerObject(headers: unknown): Record<string, string> {
  if (!headers) return {};
  if (typeof (headers as Headers).forEach === 'function' && !Array.isArray(headers)) {
    const out: Record<string, string> = {};
    (headers as Headers).forEach((value, key) => (out[key] = value));
    return out;
  }
  return Object.fromEntries(Array.isArray(headers) ? (headers as [string, string][]) : Object.entries(headers as Record<string, string>));
}

/**
 * The Hive Gateway plugin: authenticates the caller as our gateway does and signs each
 * subgraph request's identity for its exact body.
 */
export function custodianIdentityPlugin(options: CustodianPluginOptions): GatewayPlugin<CustodianContext> {
  const { db, sessionPublicKey, identityKey, accountsUrl } = options;
  return {
    // As gateway/server.ts `requestContext`: who is calling, and the identity their
    // request carries to subgraphs (gateway/identity/authenticate.ts `identify`).
    async onContextBuilding({ context, extendContext }) {
      const request = context.request;
      // As gateway/request-id.ts: our own id; a client's only checked (and not forwarded).
      let requestId: string;
      try {
        ({ requestId } = requestIds(request.headers.get('x-request-id')));
      } catch (err) {
        if (!(err instanceof InvalidRequestId)) throw err;
        throw new GraphQLError(err.message, { extensions: { code: 'INVALID_REQUEST_ID', http: { status: 400 } } });
      }
      const authorization = request.headers.get('authorization') ?? undefined;
      const purposeHeader = request.headers.get(PURPOSE_HEADER);
      try {
        const { principal, identity } = await identify(db, { authorization, purpose: purposeHeader, requestId }, sessionPublicKey);
        extendContext({ custodian: { requestId, principal, identity, authorization: authorization!, purposeHeader } });
      } catch (err) {
        if (!(err instanceof AuthError)) throw err;
        throw new GraphQLError(err.message, {
          extensions: { code: AUTH_STATUS[err.status], reason: err.code, http: { status: err.status } },
        });
      }
    },
    // gateway/scopes.ts: the token's scopes, once per operation.
    onExecute({ args }) {
      const operation = getOperationAST(args.document, args.operationName);
      const principal = (args.contextValue as Partial<CustodianContext>).custodian?.principal;
      if (!operation || !principal) return;
      const needed = requiredScope(operation);
      if (!allows(principal.scopes, needed)) {
        throw new GraphQLError(`This token lacks the "${needed}" scope`, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
      }
    },
    // gateway/subgraph-client.ts `willSendRequest`: an identity token signed for exactly the
    // body this request sends. Fetches without a user's context (none are made with a
    // static supergraph) get no identity and so no data.
    async onFetch({ url, options: init, setOptions, context }) {
      const custodian = (context as Partial<CustodianContext>).custodian;
      if (!custodian) return;
      const headers = headerObject(init.headers);
      if (url === accountsUrl) {
        headers['authorization'] = custodian.authorization;
        if (custodian.purposeHeader !== null) headers[PURPOSE_HEADER] = custodian.purposeHeader;
      } else {
        if (typeof init.body !== 'string') throw new Error(`hive peer: subgraph request body to ${url} is not a JSON string`);
        const sent = JSON.parse(init.body) as { query?: string; variables?: unknown };
        const token = await signIdentity(custodian.identity, operationDigest(sent.query ?? '', sent.variables), identityKey);
        headers['authorization'] = `Bearer ${token}`;
      }
      headers['x-request-id'] = custodian.requestId;
      setOptions({ ...init, headers });
    },
  };
}

export interface RunningHivePeer {
  url: string;
  close(): Promise<void>;
}

export async function startHivePeer(): Promise<RunningHivePeer> {
  const env = readEnv();
  const accountsUrl = process.env.HIVE_PEER_ACCOUNTS_URL;
  if (!accountsUrl) throw new Error('HIVE_PEER_ACCOUNTS_URL is required (our gateway’s /accounts/graphql)');
  const sessionPublicKey = createPublicKey(loadPrivateKey('session', env.DATA_DIR));
  const identityKey = loadPrivateKey('identity', env.DATA_DIR);
  const db = await openIdentityDatabase(env);

  const locations: Record<string, { location: string }> = { accounts: { location: accountsUrl } };
  for (const name of SUBGRAPH_NAMES) locations[name] = { location: subgraphUrl(name as SubgraphName, env) };
  const runtime = createGatewayRuntime<CustodianContext>({
    supergraph: readSupergraph(),
    transports: { http: httpTransport },
    transportEntries: locations,
    logging: env.LOG_LEVEL === 'silent' || env.LOG_LEVEL === 'fatal' ? false : env.LOG_LEVEL === 'trace' ? 'debug' : env.LOG_LEVEL,
    graphqlEndpoint: '/graphql',
    graphiql: false,
    landingPage: false,
    plugins: () => [custodianIdentityPlugin({ db, sessionPublicKey, identityKey, accountsUrl })],
  });

  const server = http.createServer(runtime);
  keepConnectionsLonger(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.PORT ?? 0, env.HOST, resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.dispose();
      await db.destroy();
    },
  };
}

export interface HivePeerProcess {
  /** GraphQL endpoint. */
  url: string;
  stop(): Promise<void>;
}

/** Starts the peer as a child process against a running hub; resolves once it listens. */
export async function spawnHivePeer(
  port: number,
  subgraphs: Record<SubgraphName, string>,
  gateway: string,
  env: Record<string, string | undefined>,
  timeoutMs = 60_000,
): Promise<HivePeerProcess> {
  const script = path.join(projectRoot(), 'dist', 'bench', 'peer', 'hive-gateway.js');
  const child: ChildProcess = spawn(process.execPath, [script], {
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      HIVE_PEER_ACCOUNTS_URL: `${gateway}/accounts/graphql`,
      ...Object.fromEntries(SUBGRAPH_NAMES.map((n) => [`${n.toUpperCase()}_URL`, subgraphs[n]])),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hive peer did not start in ${timeoutMs / 1000} s:\n${output}`));
    }, timeoutMs);
    const onData = () => {
      const ready = /hive peer ready (\S+)/.exec(output);
      if (!ready) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(ready[1]!);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hive peer exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    url: `${url}/graphql`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(kill);
      }
      await exited;
    },
  };
}

if (require.main === module) {
  startHivePeer()
    .then((running) => {
      console.log(`hive peer ready ${running.url}`);
      stopOnSignals(() => running.close());
    })
    .catch((err: unknown) => {
      console.error('hive peer failed to start:', err instanceof Error ? err.stack : err);
      process.exit(1);
    });
}
