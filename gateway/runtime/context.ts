import type { DataSource } from 'typeorm';
import type { Identity } from '../../common/signed-identity';
import type { Principal } from '../identity/authenticate';
import type { RequestBudget } from './limits/budget';

/**
 * Per request at the gateway, whichever executor serves /graphql: who is calling, and the
 * identity forwarded to subgraphs. Built once by identify.ts before the executor sees the
 * request; each adapter (apollo/, hive/) hands it to its executor as its context.
 */
export interface GatewayContext {
  /** The gateway's own id for the request (request-id.ts); the one subgraphs and the ledger see. */
  requestId: string;
  /** The client's X-Request-Id, for the logs only. */
  clientRequestId?: string;
  principal: Principal;
  identity: Identity;
  /** The gateway's identity database (for the in-process accounts subgraph). */
  db: DataSource;
  /** The request's deadline and response-size budget (limits/budget.ts). */
  budget: RequestBudget;
}
