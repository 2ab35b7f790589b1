import type { DataSource } from 'typeorm';
import type { Identity } from '../common/identity';
import type { Principal } from './identity/authenticate';

/** Per request at the gateway: who is calling, and the identity forwarded to subgraphs. */
export interface GatewayContext {
  requestId: string;
  principal: Principal;
  identity: Identity;
  /** The gateway's identity database (for the in-process accounts subgraph). */
  db: DataSource;
}
