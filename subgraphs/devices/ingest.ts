/**
 * Ingesting a batch of readings: the device's signature is checked, the batch validated
 * as a whole, then everything is written in one transaction together with the device's
 * new batch sequence — so a batch is either stored with its sequence or not at all, and
 * the same signed batch sent again (a replay) is refused. A reading already stored by an
 * earlier batch (same device, metric, instant) is skipped, not duplicated.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { publicKeyFromRaw, verifyBatch } from '../../common/device-signature';
import { serialized } from '../../common/database';
import { actorFields, appendToOutbox, type EventActor } from '../../ledger/pipeline/outbox';
import { badInput, notFound, userError } from '../../common/errors';
import { newId } from '../../common/ids';
import { Device, DeviceReading } from './entities';
import { METRICS, METRICS_BY_KIND, type Metric } from './metrics';

export const MAX_BATCH = 1000;
/** Device clocks drift; a reading further in the future than this is refused. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export interface ReadingInput {
  metric: Metric;
  value: number;
  recordedAt: Date;
}

export interface IngestResult {
  device: Device;
  accepted: number;
  duplicates: number;
}

export interface IngestInput {
  deviceId: string;
  sequence: number;
  readings: ReadingInput[];
  /** Ed25519 over the canonical batch, base64url (see common/device-signature.ts). */
  signature: string;
}

export async function ingestReadings(db: DataSource, input: IngestInput, actor: EventActor, now = new Date()): Promise<IngestResult> {
  const { readings } = input;
  if (readings.length === 0) throw badInput('A batch needs at least one reading', 'readings');
  if (readings.length > MAX_BATCH) throw badInput(`A batch holds at most ${MAX_BATCH} readings`, 'readings');
  if (!Number.isInteger(input.sequence) || input.sequence < 1) throw badInput('sequence must be a positive integer', 'sequence');
  const device = await signingDevice(db, input);
  const unique = validReadings(device, readings, now);

  return serialized(db, () => db.transaction(async (tx) => {
    await advanceSequence(tx, device, input.sequence);
    const fresh = await withoutStored(tx, device, unique);
    await insertReadings(tx, device, fresh);
    const result = { device, accepted: fresh.length, duplicates: readings.length - fresh.length };
    // Counts and ids only: the readings themselves are clinical values and stay here.
    await appendToOutbox(tx, [{
      kind: 'readings.ingested',
      payload: { ...actorFields(actor), patientId: device.ownerPatientId, deviceId: device.id, sequence: input.sequence, acceptedCount: result.accepted, duplicateCount: result.duplicates, category: 'DEVICES', action: 'write' },
    }], now);
    return result;
  }));
}

/** The device the batch names, if it has a key and the batch carries that key's signature. */
async function signingDevice(db: DataSource, input: IngestInput): Promise<Device> {
  const device = await db.getRepository(Device).findOneBy({ id: input.deviceId });
  if (!device) throw notFound('Device', input.deviceId);
  if (!device.publicKey) throw userError('FORBIDDEN', 'This device has no registered key and cannot send readings');
  if (!verifyBatch(input, input.signature, publicKeyFromRaw(device.publicKey))) {
    throw userError('UNAUTHENTICATED', "The batch is not signed by this device's key");
  }
  return device;
}

/**
 * Every reading checked against what the device reports, the metric's range and the
 * clock; the first bad one refuses the whole batch. Keyed by metric and instant, so a
 * reading repeated within the batch counts once (the last copy wins).
 */
function validReadings(device: Device, readings: ReadingInput[], now: Date): Map<string, ReadingInput> {
  const allowed = METRICS_BY_KIND[device.kind];
  const unique = new Map<string, ReadingInput>();
  readings.forEach((r, i) => {
    const where = `readings[${i}]`;
    if (!allowed.includes(r.metric)) throw badInput(`${where}: a ${device.kind} does not report ${r.metric}`, where);
    const spec = METRICS[r.metric];
    if (!Number.isFinite(r.value) || r.value < spec.min || r.value > spec.max) {
      throw badInput(`${where}: ${r.metric} ${r.value} is outside ${spec.min}..${spec.max} ${spec.unit}`, where);
    }
    if (r.recordedAt.getTime() - now.getTime() > MAX_CLOCK_SKEW_MS) {
      throw badInput(`${where}: recordedAt is in the future`, where);
    }
    unique.set(readingKey(r.metric, r.recordedAt), r);
  });
  return unique;
}

const readingKey = (metric: string, recordedAt: Date) => `${metric}|${recordedAt.toISOString()}`;

/** Moves the device's last sequence up to this batch's, or refuses the batch as a replay. */
async function advanceSequence(tx: EntityManager, device: Device, sequence: number): Promise<void> {
  // Compare-and-set inside the transaction: concurrent copies of one batch cannot both pass.
  const advanced = await tx
    .createQueryBuilder()
    .update(Device)
    .set({ lastSequence: sequence })
    .where('id = :id AND last_sequence < :sequence', { id: device.id, sequence })
    .execute();
  if (!advanced.affected) {
    throw userError('CONFLICT', `Batch ${sequence} was already accepted or is older than the last one: a replay`, {
      lastSequence: device.lastSequence,
    });
  }
  device.lastSequence = sequence;
}

/** The readings not already stored by an earlier batch (looked up 500 instants at a time). */
async function withoutStored(tx: EntityManager, device: Device, unique: Map<string, ReadingInput>): Promise<ReadingInput[]> {
  const instants = [...new Set([...unique.values()].map((r) => r.recordedAt.toISOString()))];
  const existing = new Set<string>();
  for (let i = 0; i < instants.length; i += 500) {
    const rows = await tx.getRepository(DeviceReading).find({
      select: { metric: true, recordedAt: true },
      where: { deviceId: device.id, recordedAt: In(instants.slice(i, i + 500)) as never },
    });
    for (const row of rows) existing.add(readingKey(row.metric, row.recordedAt));
  }
  return [...unique.entries()].filter(([key]) => !existing.has(key)).map(([, r]) => r);
}

/** Inserts the readings, 200 rows per statement. */
async function insertReadings(tx: EntityManager, device: Device, readings: ReadingInput[]): Promise<void> {
  for (let i = 0; i < readings.length; i += 200) {
    await tx
      .getRepository(DeviceReading)
      .createQueryBuilder()
      .insert()
      .values(
        readings.slice(i, i + 200).map((r) => ({
          id: newId('rdg'),
          deviceId: device.id,
          metric: r.metric,
          value: r.value,
          unit: METRICS[r.metric].unit,
          recordedAt: r.recordedAt,
        })),
      )
      .execute();
  }
}
