import type { DataSource } from 'typeorm';
import type DataLoader from 'dataloader';
import type { Identity } from '../../common/signed-identity';
import type { ConsentEngine } from '../../consent/engine';
import type { ConsentNotifier } from '../../consent/notifications';
import { Access } from './decisions';
import type { Logger } from '../../common/logger';

/**
 * Per-request state handed to every resolver. DataLoaders live here so that batching
 * and caching never leak between requests (or between users).
 */
export interface SubgraphContext {
  db: DataSource;
  /** Who asks, in which role, for what purpose: verified from the gateway's token. */
  identity: Identity;
  /** This request's consent decisions (see access.ts and gate.ts). */
  access: Access;
  /** The consent store and its engine, shared by the process; the notifier announces changes. */
  consent: { engine: ConsentEngine; notifier: ConsentNotifier };
  requestId: string;
  log: Logger;
  /** What the subgraph opened besides its database (SubgraphDefinition.resources). */
  resources: Record<string, unknown>;
  /** A request-scoped DataLoader, created on first use under `key`. */
  loader<K, V>(key: string, create: () => DataLoader<K, V>): DataLoader<K, V>;
}

export function createContext(
  db: DataSource,
  log: Logger,
  identity: Identity,
  consent: { engine: ConsentEngine; notifier: ConsentNotifier },
  service: string,
  resources: Record<string, unknown> = {},
): SubgraphContext {
  const loaders = new Map<string, DataLoader<unknown, unknown>>();
  return {
    db,
    identity,
    access: new Access(consent.engine, identity, service),
    consent,
    requestId: identity.requestId,
    resources,
    log: log.child({ requestId: identity.requestId, subject: identity.subject }),
    loader<K, V>(key: string, create: () => DataLoader<K, V>): DataLoader<K, V> {
      let loader = loaders.get(key);
      if (!loader) {
        loader = create() as DataLoader<unknown, unknown>;
        loaders.set(key, loader);
      }
      return loader as DataLoader<K, V>;
    },
  };
}
