import type { DataSource } from 'typeorm';
import type { Identity } from '../common/signed-identity';
import type { Principal } from './identity/authenticate';
import type { RequestBudget } from './limits/budget';

/** Per request at the gateway: who is calling, and the identity forwarded to subgraphs. */
export interface GatewayContext {
  /** The gateway's own id for the request (gateway/request-id.ts); the one subgraphs and the ledger see. */
  requestId: string;
  /** The client's X-Request-Id, for the logs only. */
  clientRequestId?: string;
  principal: Principal;
  identity: Identity;
  /** The gateway's identity database (for the in-process accounts subgraph). */
  db: DataSource;
  /** The request's deadline and response-size budget (gateway/limits/budget.ts). */
  budget: RequestBudget;
}
