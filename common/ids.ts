import { randomBytes } from 'node:crypto';

/**
 * Opaque ids: a short type prefix (so a log line says what it names) and 80 random
 * bits. They carry nothing about the person, which matters: ids end up in the ledger.
 */
export function newId(prefix: string, random: () => Buffer = () => randomBytes(10)): string {
  return `${prefix}_${random().toString('hex')}`;
}
