import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type DataLoader from 'dataloader';
import type { Logger } from '../../common/logger';

/**
 * Per-request state handed to every resolver. DataLoaders live here so that batching
 * and caching never leak between requests (or between users).
 */
export interface SubgraphContext {
  db: DataSource;
  requestId: string;
  log: Logger;
  /** A request-scoped DataLoader, created on first use under `key`. */
  loader<K, V>(key: string, create: () => DataLoader<K, V>): DataLoader<K, V>;
}

export function createContext(db: DataSource, log: Logger, requestId?: string): SubgraphContext {
  const loaders = new Map<string, DataLoader<unknown, unknown>>();
  const id = requestId && /^[\w.-]{1,100}$/.test(requestId) ? requestId : randomUUID();
  return {
    db,
    requestId: id,
    log: log.child({ requestId: id }),
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
