/**
 * The FHIR R4 API at /fhir/R4: content negotiation, the caller identified exactly as at
 * /graphql, one resource module per type (resources/), errors as OperationOutcome.
 *
 * Dispatch is in process: the caller is identified by the gateway's own `identifier`
 * (gateway/runtime/identify.ts: the same token check, purpose of use, per-account GraphQL
 * rate limit and request budget as /graphql), and each FHIR interaction runs ONE GraphQL
 * operation through the executor's `execute` — the same Apollo Server or Hive runtime,
 * with its operation limits, cost estimate, scope check and signed subgraph fetches, so
 * every consent decision and ledger record is the supergraph's. Not a loopback request to
 * /graphql: that would cost an HTTP round trip and a second JSON parse, and the rate limit
 * on failed sign-ins (per client address) would see the gateway's own address instead of
 * the client's.
 */
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { ExecutedOperation } from '../gateway/runtime/executor';
import type { GatewayContext } from '../gateway/runtime/context';
import { Refusal, type Identifier } from '../gateway/runtime/identify';
import { clientAddress } from '../gateway/runtime/limits/rate-limit';
import type { Logger } from '../common/logger';
import { searchset } from './bundle';
import { capabilityStatement } from './capability';
import { FhirError, operationOutcome, type IssueType } from './outcome';
import type { FhirContext, ResourceModule } from './resource';
import { RESOURCES } from './resources';
import { parseSearch } from './search';

export const FHIR_BASE_PATH = '/fhir/R4';
export const FHIR_JSON = 'application/fhir+json';

export interface FhirDeps {
  identify: Identifier;
  execute: (request: { query: string; variables?: Record<string, unknown> }, context: GatewayContext) => Promise<ExecutedOperation>;
  log: Logger;
}

function send(res: Response, status: number, body: unknown): void {
  res.status(status).type(`${FHIR_JSON}; charset=utf-8`).send(JSON.stringify(body));
}

function sendOutcome(res: Response, status: number, issue: IssueType, message: string, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  send(res, status, operationOutcome(issue, message));
}

/** The gateway's refusal codes (identify.ts) as FHIR issue types. */
const REFUSAL_ISSUE: Record<string, IssueType> = { UNAUTHENTICATED: 'login', RATE_LIMITED: 'throttled', FORBIDDEN: 'forbidden', BAD_USER_INPUT: 'invalid', INVALID_REQUEST_ID: 'invalid' };

/** JSON in either spelling, or anything: the one format this server speaks. */
function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').some((part) => /^\s*(application\/(fhir\+json|json|\*)|\*\/\*)\s*(;|$)/i.test(part));
}

const baseOf = (req: Request) => `${req.protocol}://${req.get('host')}${FHIR_BASE_PATH}`;

export function fhirRoutes({ identify, execute, log }: FhirDeps): express.Router {
  const byType = new Map(RESOURCES.map((m) => [m.type, m]));
  const started = new Date().toISOString();
  const router = express.Router();

  const wrap =
    (handler: (req: Request, res: Response) => Promise<void>): RequestHandler =>
    (req, res) => {
      handler(req, res).catch((err: unknown) => {
        if (err instanceof FhirError) return sendOutcome(res, err.status, err.issue, err.message, err.headers);
        log.error({ err, requestId: req.requestId }, 'FHIR request failed');
        sendOutcome(res, 500, 'exception', 'The request could not be completed');
      });
    };

  router.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET');
      return sendOutcome(res, 405, 'not-supported', `${req.method} is not supported: this API reads (GET) only`);
    }
    if (!acceptsJson(req.header('accept'))) return sendOutcome(res, 406, 'not-supported', `This server answers ${FHIR_JSON} only`);
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  router.get('/metadata', (req, res) => send(res, 200, capabilityStatement(baseOf(req), RESOURCES, started)));

  /** Identifies the caller as /graphql does; the context's run() executes as them. */
  async function contextOf(req: Request, res: Response): Promise<FhirContext> {
    let gateway: GatewayContext;
    try {
      gateway = await identify({ header: (name) => req.header(name), address: clientAddress(req), requestId: req.requestId!, clientRequestId: req.clientRequestId });
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      throw new FhirError(err.status, REFUSAL_ISSUE[err.code] ?? 'forbidden', err.message, err.headers);
    }
    res.once('close', () => {
      if (!res.writableFinished) gateway.budget.end('client-gone');
    });
    const origin = `${req.protocol}://${req.get('host')}`;
    return { run: (query, variables) => execute({ query, variables }, gateway), principal: gateway.principal, base: `${origin}${FHIR_BASE_PATH}`, origin };
  }

  const moduleOf = (type: string): ResourceModule => {
    const m = byType.get(type);
    if (!m) throw new FhirError(404, 'not-supported', `Resource type "${type}" is not supported here (see ${FHIR_BASE_PATH}/metadata)`);
    return m;
  };

  router.get(
    '/:type',
    wrap(async (req, res) => {
      const m = moduleOf(String(req.params.type));
      const given = new URL(req.originalUrl, 'http://x').searchParams;
      const idParam = [{ name: '_id', type: 'token' as const, documentation: '' }];
      const ctx = await contextOf(req, res);
      const query = parseSearch(given, { params: [...idParam, ...m.params], sortsByDate: m.sortsByDate });
      const only = query.get('_id');
      if (only !== undefined) {
        if ([...given.keys()].some((k) => !['_id', '_count', '_format'].includes(k))) throw new FhirError(400, 'not-supported', '_id cannot be combined with other parameters');
        // A search by id is a read; unknown and hidden are an empty searchset alike.
        const found = await m.read(ctx, only).catch((err: unknown) => {
          if (err instanceof FhirError && err.status === 404) return null;
          throw err;
        });
        return send(res, 200, searchset(ctx.base, m.type, given, { resources: found ? [found] : [], total: found ? 1 : 0 }));
      }
      send(res, 200, searchset(ctx.base, m.type, given, await m.search(ctx, query)));
    }),
  );

  router.get(
    '/:type/:id',
    wrap(async (req, res) => {
      const m = moduleOf(String(req.params.type));
      const id = String(req.params.id);
      if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) throw new FhirError(404, 'not-found', `${m.type}/${id.slice(0, 64)} is not known, or not yours to see`);
      const ctx = await contextOf(req, res);
      send(res, 200, await m.read(ctx, id));
    }),
  );

  router.use((req, res) => sendOutcome(res, 404, 'not-supported', `No such FHIR endpoint: ${req.method} ${req.path}`.slice(0, 200)));
  return router;
}
