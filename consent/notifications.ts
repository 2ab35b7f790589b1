/**
 * "Patient P's consents are now at version v", told to every process over Redis
 * pub/sub, so caches are dropped at once. Correctness does not depend on it — each
 * request reads current versions from the consent store — so if Redis is away, a
 * process is only slower (it rebuilds on the version check), never wrong.
 */
import Redis from 'ioredis';
import type { Logger } from '../common/logger';

export const CONSENT_CHANNEL = 'custodian:consent-changed';

export interface ConsentChange {
  patientId: string;
  version: number;
}

function client(url: string, log: Logger): Redis {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', (err) => log.debug({ err: err.message }, 'redis unavailable for consent notifications'));
  return redis;
}

export class ConsentNotifier {
  private readonly pub: Redis;

  constructor(url: string, private readonly log: Logger) {
    this.pub = client(url, log);
    this.pub.connect().catch(() => undefined);
  }

  async announce(change: ConsentChange): Promise<void> {
    try {
      await this.pub.publish(CONSENT_CHANNEL, JSON.stringify(change));
    } catch (err) {
      this.log.warn({ err: (err as Error).message, ...change }, 'could not announce a consent change; other processes will see it on their next version check');
    }
  }

  async close(): Promise<void> {
    this.pub.disconnect();
  }
}

export function listenForConsentChanges(url: string, log: Logger, onChange: (change: ConsentChange) => void): { close(): Promise<void> } {
  // Not lazy, offline queue on: the subscription is made whenever Redis is (again) reachable.
  const sub = new Redis(url, { maxRetriesPerRequest: null });
  sub.on('error', (err) => log.debug({ err: err.message }, 'redis unavailable for consent notifications'));
  sub.on('message', (_channel, message) => {
    try {
      const change = JSON.parse(message) as ConsentChange;
      if (typeof change.patientId === 'string') onChange(change);
    } catch {
      log.warn('ignored a malformed consent notification');
    }
  });
  sub.subscribe(CONSENT_CHANNEL).catch(() => undefined);
  return {
    async close() {
      sub.disconnect();
    },
  };
}
