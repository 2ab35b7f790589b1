/**
 * Times every GraphQL request at the gateway, from the moment its route is reached to
 * the end of its answer — refusals included (a 429, a 400 QUERY_TOO_COMPLEX), since they
 * are load too — under its operation's bounded label (common/metrics/operations.ts).
 * Framework-neutral: it sits in front of whichever executor serves the route. The body
 * is parsed by the time the answer ends; only its operationName (or the first
 * operation's name in the query) is read, and a name becomes a label of its own only
 * for a caller the gateway identified.
 */
import type { RequestHandler } from 'express';
import { OperationNames } from '../../common/metrics/operations';
import { graphqlRequestDuration } from '../../common/metrics/series';

export function timeGraphqlRequests(names = new OperationNames()): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      graphqlRequestDuration.observe({ operation: names.label(req.body, req.gatewayContext !== undefined) }, seconds);
    });
    next();
  };
}
